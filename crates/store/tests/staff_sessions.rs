//! Ending every session of one member of staff (at deactivation), on each
//! backend: their sessions go, everyone else's stay.

use celltrace_store::accounts::Session;
use celltrace_store::Database;
use celltrace_testkit::TestDb;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_members_sessions_end_together_and_no_one_elses() {
    for db in TestDb::all().await {
        let database = Database::open(&db.url).await.expect("open");
        let session = |staff: &str| Session { staff: staff.parse().expect("id"), site: "dubai".parse().expect("id"), csrf_token: "c".repeat(64), expires_at: i64::MAX };
        for (token, staff) in [("t-1", "omar"), ("t-2", "omar"), ("t-3", "fatima")] {
            database.create_session(token, &session(staff), 1).await.expect("session");
        }
        assert_eq!(database.end_sessions_of(&"omar".parse().expect("id")).await.expect("end"), 2, "{}", db.backend);
        for token in ["t-1", "t-2"] {
            assert_eq!(database.session(token, 2).await.expect("read"), None, "{}: {token} ended", db.backend);
        }
        assert_eq!(database.session("t-3", 2).await.expect("read"), Some(session("fatima")), "{}: another's stays", db.backend);
        assert_eq!(database.end_sessions_of(&"omar".parse().expect("id")).await.expect("end"), 0, "{}: none left", db.backend);
        db.drop_database().await;
    }
}
