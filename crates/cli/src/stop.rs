//! How `celltrace serve` ends: the signals that ask for a stop, and the
//! end of a graceful stop once the server has stopped accepting (a final
//! signed tree head over everything answered, the command path and the
//! database closed, within the stop's time budget).

use celltrace_store::{Database, Engine};
use std::process::ExitCode;

/// Completes on Ctrl-C or SIGTERM (what service managers and containers send).
pub async fn signal() {
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM; stop with Ctrl-C");
                let _ = tokio::signal::ctrl_c().await;
                return;
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// The end of a graceful stop: every answered command is covered by a final
/// signature, then the database is closed. Exit 0 only when no request was
/// abandoned and the signature was made; otherwise say what was left undone.
pub async fn finish(engine: &Engine, db: &Database, stopped: celltrace_web::serve::Stopped, deadline: std::time::Instant, budget: std::time::Duration) -> ExitCode {
    let mut problems = Vec::new();
    if stopped.abandoned > 0 {
        problems.push(format!(
            "{} connections were still busy after {} s and were cut off without an answer; \
             each of their commands was either recorded before the stop or not at all (look it up by its id)",
            stopped.abandoned,
            budget.as_secs()
        ));
    }
    // The writer handles jobs in order, so this signature comes after every command answered above.
    let left = deadline.saturating_duration_since(std::time::Instant::now()).max(std::time::Duration::from_secs(1));
    match tokio::time::timeout(left, engine.checkpoint()).await {
        Ok(Ok(Some(cp))) => eprintln!("signed the final tree head: the ledger up to entry {} is covered", cp.size),
        Ok(Ok(None)) => eprintln!("the ledger is empty: there was nothing to sign"),
        Ok(Err(e)) => problems.push(format!("the final tree head could not be signed ({e}); run `celltrace checkpoint` before the next start")),
        Err(_) => problems.push("the final tree head was not signed in time; run `celltrace checkpoint` before the next start".to_owned()),
    }
    // Bounded like the rest: a writer stuck in a transaction must not hold the exit.
    let left = deadline.saturating_duration_since(std::time::Instant::now()).max(std::time::Duration::from_secs(1));
    if tokio::time::timeout(left, engine.close()).await.is_err() {
        problems.push("the command path did not finish in time; the database was not closed cleanly (it recovers on the next start)".to_owned());
    }
    db.close().await;
    if problems.is_empty() {
        eprintln!("celltrace stopped: every request was answered and the database is closed");
        ExitCode::SUCCESS
    } else {
        for problem in &problems {
            eprintln!("error: stopped uncleanly: {problem}");
        }
        ExitCode::FAILURE
    }
}
