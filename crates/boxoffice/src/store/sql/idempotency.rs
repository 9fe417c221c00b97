//! Idempotency keys of the `Idempotency-Key` header: claimed before their request runs, then
//! completed with its answer in the transaction of its change (the request's unit of work), or
//! given up when the answer is not kept. What a repeat gets is the domain's answer
//! (`StoredKey::repeat`); unique `(scope, idempotency_key)` is the arbiter between concurrent
//! first uses.

use sqlx::any::AnyArguments;
use sqlx::query::Query;
use sqlx::{Any, AssertSqlSafe, Row as _};

use super::{Decision, SqlStore, Tx, UnitOfWork};
use crate::domain::{KeptAnswer, KeyClaim, Repeat, StoredKey, Timestamp};
use crate::store::{StoreError, StoreResult};

/// Binds a claim as `$1` scope, `$2` key, `$3` fingerprint, `$4` claim token, `$5` lease,
/// `$6` time of the claim.
trait BindClaim {
    fn bind_claim(self, claim: &KeyClaim) -> Self;
}

impl BindClaim for Query<'_, Any, AnyArguments> {
    fn bind_claim(self, claim: &KeyClaim) -> Self {
        self.bind(claim.scope.clone())
            .bind(claim.key.as_str().to_owned())
            .bind(claim.fingerprint.clone())
            .bind(claim.token)
            .bind(claim.lease_until)
            .bind(claim.now)
    }
}

impl SqlStore {
    /// Claims the key for the request, or says what a repeat gets (never `Repeat::Claim`:
    /// a lapsed key is claimed afresh here).
    ///
    /// The claim commits whatever the request's deadline: it is bookkeeping, not the
    /// request's change (which still decides against the deadline), and the caller gives it
    /// up if the request is answered otherwise.
    pub(super) async fn claim_key(&self, claim: &KeyClaim) -> StoreResult<Option<Repeat>> {
        let no_deadline = crate::deadline::within(Vec::new().into(), async {
            super::in_write_tx!(self, |tx| self.claim_key_in(&mut tx, claim))
        });
        no_deadline.await
    }

    async fn claim_key_in(
        &self,
        tx: &mut Tx,
        claim: &KeyClaim,
    ) -> StoreResult<Decision<Option<Repeat>>> {
        let inserted = sqlx::query(
            "INSERT INTO idempotency_keys (scope, idempotency_key, fingerprint, claim_token, \
             lease_until, created_at) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (scope, idempotency_key) DO NOTHING",
        )
        .bind_claim(claim)
        .execute(&mut **tx)
        .await?;
        if inserted.rows_affected() == 1 {
            return Ok(Ok(None));
        }
        let statement = self.dialect.statement(
            "SELECT fingerprint, answer_status, answer_body, lease_until, created_at \
             FROM idempotency_keys WHERE scope = $1 AND idempotency_key = $2{for_update}",
        );
        let Some(row) = sqlx::query(AssertSqlSafe(statement))
            .bind(claim.scope.clone())
            .bind(claim.key.as_str().to_owned())
            .fetch_optional(&mut **tx)
            .await?
        else {
            // Pruned between the two statements: try again from the start.
            return Err(StoreError::Conflict(None));
        };
        let status: Option<i64> = row.try_get("answer_status")?;
        let body: Option<String> = row.try_get("answer_body")?;
        let stored = StoredKey {
            fingerprint: row.try_get("fingerprint")?,
            answer: match (status, body) {
                (Some(status), Some(body)) => Some(KeptAnswer {
                    status: u16::try_from(status)
                        .map_err(|_| StoreError::corrupt("an idempotency answer's status"))?,
                    body,
                }),
                _ => None,
            },
            lease_until: row.try_get("lease_until")?,
            created_at: row.try_get("created_at")?,
        };
        match stored.repeat(claim) {
            Repeat::Claim => {
                sqlx::query(
                    "UPDATE idempotency_keys SET fingerprint = $3, claim_token = $4, \
                     lease_until = $5, answer_status = NULL, answer_body = NULL, created_at = $6 \
                     WHERE scope = $1 AND idempotency_key = $2",
                )
                .bind_claim(claim)
                .execute(&mut **tx)
                .await?;
                Ok(Ok(None))
            }
            repeat => Ok(Ok(Some(repeat))),
        }
    }

    /// Completes the claim with the answer in the unit's transaction (the request's change, if
    /// it made one) and commits both, if the request's deadline still allows it.
    pub(super) async fn keep_answer_in_unit(
        &self,
        unit: &UnitOfWork,
        claim: &KeyClaim,
        answer: &KeptAnswer,
    ) -> StoreResult<()> {
        let mut tx = match unit.take() {
            Some(tx) => tx,
            None => self.writer.begin_with(self.dialect.begin_write()).await?,
        };
        let completed = sqlx::query(
            "UPDATE idempotency_keys SET answer_status = $4, answer_body = $5 \
             WHERE scope = $1 AND idempotency_key = $2 AND claim_token = $3 \
             AND answer_status IS NULL",
        )
        .bind(claim.scope.clone())
        .bind(claim.key.as_str().to_owned())
        .bind(claim.token)
        .bind(i64::from(answer.status))
        .bind(answer.body.clone())
        .execute(&mut *tx)
        .await?;
        // Not ours any more (its lease ran out and another request took it over), or too
        // late: nothing of the request may stand.
        if completed.rows_affected() != 1 || !crate::deadline::may_commit() {
            let _ = tx.rollback().await;
            return Err(StoreError::TimedOut);
        }
        // A connection lost during this COMMIT leaves the change and its kept answer unknown.
        tx.commit().await.map_err(StoreError::from_commit)?;
        Ok(())
    }

    /// Rolls the unit back and gives the claim up, if it is still this run's and incomplete.
    pub(super) async fn release_key(&self, unit: &UnitOfWork, claim: &KeyClaim) -> StoreResult<()> {
        if let Some(tx) = unit.take() {
            let _ = tx.rollback().await;
        }
        sqlx::query(
            "DELETE FROM idempotency_keys WHERE scope = $1 AND idempotency_key = $2 \
             AND claim_token = $3 AND answer_status IS NULL",
        )
        .bind(claim.scope.clone())
        .bind(claim.key.as_str().to_owned())
        .bind(claim.token)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Forgets keys first used before `before`; how many.
    pub(super) async fn prune_keys(&self, before: Timestamp) -> StoreResult<u64> {
        let pruned = sqlx::query("DELETE FROM idempotency_keys WHERE created_at < $1")
            .bind(before)
            .execute(&self.writer)
            .await?;
        Ok(pruned.rows_affected())
    }
}
