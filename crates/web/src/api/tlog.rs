//! The transparency log, public: the newest signed tree head as a C2SP
//! signed note (what witnesses fetch and cosign), and inclusion and
//! consistency proofs between any sizes the ledger holds. They reveal only
//! hashes, so anyone may ask. Hashes are standard base64 (RFC 4648, with
//! padding), as in the checkpoint's root line.

use super::ApiError;
use crate::error::AppError;
use crate::AppState;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use celltrace_store::read::ProofRequestError;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

fn query_error(rejection: QueryRejection) -> AppError {
    AppError::bad_request(format!("{}: give whole numbers, e.g. ?seq=5&size=10 or ?from=5&to=10", rejection.body_text()))
}

fn proof_error(e: ProofRequestError) -> AppError {
    match e {
        ProofRequestError::Invalid(message) => AppError::bad_request(message),
        // Well formed, but no tree of that size exists yet.
        ProofRequestError::BeyondLedger(message) => AppError::not_found("A tree of that size").with_message(message),
        ProofRequestError::Store(e) => e.into(),
    }
}

fn b64(hashes: &[[u8; 32]]) -> Vec<String> {
    hashes.iter().map(|h| BASE64.encode(h)).collect()
}

/// The newest signed tree head (C2SP `tlog-checkpoint` in a `signed-note`).
#[utoipa::path(get, path = "/api/ledger/checkpoint", tag = "ledger", responses(
    (status = 200, description = "The signed note: origin, tree size, base64 root, the signed-at extension line, a blank line, the Ed25519 signature line", body = String, content_type = "text/plain"),
    (status = 404, description = "No tree head has been signed yet (an empty ledger)", body = ApiError),
    (status = 503, description = "The database is not reachable", body = ApiError),
))]
pub async fn checkpoint(State(state): State<AppState>) -> Result<Response, AppError> {
    let head = state.reader().latest_tree_head().await?.ok_or_else(|| AppError::not_found("A signed tree head"))?;
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], head.note).into_response())
}

/// Which inclusion proof to give.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InclusionQuery {
    /// The ledger entry (from 1); it is leaf `seq - 1` of the tree.
    #[param(minimum = 1)]
    pub seq: u64,
    /// The tree size (at least `seq`, at most the ledger's size), normally a signed tree head's.
    #[param(minimum = 1)]
    pub size: u64,
}

/// An inclusion proof (RFC 9162 §2.1.3): hashes base64.
#[derive(Debug, Serialize, ToSchema)]
pub struct InclusionProofBody {
    /// The entry.
    pub seq: u64,
    /// Its leaf index, `seq - 1`.
    pub leaf_index: u64,
    /// The tree size.
    pub size: u64,
    /// The leaf hash, SHA-256(0x00 || entry hash), base64.
    pub leaf_hash: String,
    /// The root of the tree of `size` entries, base64.
    pub root: String,
    /// The audit path, bottom up, base64.
    pub hashes: Vec<String>,
}

/// The inclusion proof of an entry in the tree of a given size.
#[utoipa::path(get, path = "/api/ledger/proof/inclusion", tag = "ledger", params(InclusionQuery), responses(
    (status = 200, description = "The proof", body = InclusionProofBody),
    (status = 400, description = "seq is 0 or larger than size, or a parameter is not a whole number", body = ApiError),
    (status = 404, description = "size is larger than the ledger: no tree of that size exists yet", body = ApiError),
    (status = 503, description = "The database is not reachable", body = ApiError),
))]
pub async fn inclusion(State(state): State<AppState>, query: Result<Query<InclusionQuery>, QueryRejection>) -> Result<Json<InclusionProofBody>, AppError> {
    let Query(query) = query.map_err(query_error)?;
    let proof = state.reader().inclusion_proof(query.seq, query.size).await.map_err(proof_error)?;
    Ok(Json(InclusionProofBody {
        seq: proof.seq,
        leaf_index: proof.seq - 1,
        size: proof.size,
        leaf_hash: BASE64.encode(proof.leaf_hash),
        root: BASE64.encode(proof.root),
        hashes: b64(&proof.hashes),
    }))
}

/// Which consistency proof to give.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ConsistencyQuery {
    /// The older tree size (at least 1).
    #[param(minimum = 1)]
    pub from: u64,
    /// The newer tree size (at least `from`, at most the ledger's size).
    #[param(minimum = 1)]
    pub to: u64,
}

/// A consistency proof (RFC 9162 §2.1.4) with both roots: hashes base64.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConsistencyProofBody {
    /// The older size.
    pub from: u64,
    /// The newer size.
    pub to: u64,
    /// Root of the older tree, base64.
    pub from_root: String,
    /// Root of the newer tree, base64.
    pub to_root: String,
    /// The proof, base64 (empty when the sizes are equal).
    pub hashes: Vec<String>,
}

/// The consistency proof between two tree sizes: the newer tree extends the older unchanged.
#[utoipa::path(get, path = "/api/ledger/proof/consistency", tag = "ledger", params(ConsistencyQuery), responses(
    (status = 200, description = "The proof", body = ConsistencyProofBody),
    (status = 400, description = "from is 0 or larger than to, or a parameter is not a whole number", body = ApiError),
    (status = 404, description = "to is larger than the ledger: no tree of that size exists yet", body = ApiError),
    (status = 503, description = "The database is not reachable", body = ApiError),
))]
pub async fn consistency(State(state): State<AppState>, query: Result<Query<ConsistencyQuery>, QueryRejection>) -> Result<Json<ConsistencyProofBody>, AppError> {
    let Query(query) = query.map_err(query_error)?;
    let proof = state.reader().consistency_proof(query.from, query.to).await.map_err(proof_error)?;
    Ok(Json(ConsistencyProofBody {
        from: proof.from,
        to: proof.to,
        from_root: BASE64.encode(proof.from_root),
        to_root: BASE64.encode(proof.to_root),
        hashes: b64(&proof.hashes),
    }))
}
