//! Access tokens (expiry, forgery, malformed input) and rotating refresh
//! tokens on both stores (rotation, reuse, expiry, revocation, concurrency).

use crate::support::{account, db, set_active, t0, AccountId, Kind};
use base64::Engine;
use chrono::Duration;
use platform_accounts::{AccessTokens, ActiveAccounts, TokenError, TokenPair, Tokens};
use platform_db::on_pool;

const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef-test";

fn tokens() -> Tokens {
    Tokens::new(AccessTokens::new(SECRET))
}

type Pair = TokenPair<AccountId, Kind>;

#[test]
fn access_tokens_carry_their_claims_until_expiry() {
    let access = AccessTokens::new(SECRET);
    assert_eq!(access.lifetime(), Duration::minutes(15));
    let who = AccountId::new();
    let (token, claims) = access.issue(&who, &Kind::Admin, t0());
    assert_eq!(token.split('.').count(), 3);
    let got = access.verify(&token, t0()).unwrap();
    assert_eq!(got, claims);
    assert_eq!(got.account::<AccountId>(), Some(who));
    assert_eq!(got.kind::<Kind>(), Some(Kind::Admin));
    assert_eq!((got.iat, got.exp), (t0().timestamp(), (t0() + Duration::minutes(15)).timestamp()));
    assert_eq!(got.expires_at(), t0() + Duration::minutes(15));
    assert_ne!(access.issue(&who, &Kind::Admin, t0()).1.jti, claims.jti, "each token has its own id");

    let last = t0() + Duration::minutes(15) - Duration::milliseconds(1);
    assert!(access.verify(&token, last).is_ok());
    assert!(matches!(access.verify(&token, t0() + Duration::minutes(15)), Err(TokenError::Expired)));

    let short = AccessTokens::new(SECRET).with_lifetime(Duration::seconds(30));
    let (token, _) = short.issue(&who, &Kind::User, t0());
    assert!(matches!(short.verify(&token, t0() + Duration::seconds(30)), Err(TokenError::Expired)));
    // The lifetime is the issuer's: any holder of the secret verifies.
    assert!(access.verify(&token, t0() + Duration::seconds(29)).is_ok());
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[test]
fn forged_tokens_are_refused_as_bad_signatures() {
    let access = AccessTokens::new(SECRET);
    let (token, claims) = access.issue(&AccountId::new(), &Kind::User, t0());

    let other = AccessTokens::new(b"another-deployment-secret-of-32-bytes!");
    let (theirs, _) = other.issue(&AccountId::new(), &Kind::Admin, t0());
    assert!(matches!(access.verify(&theirs, t0()), Err(TokenError::BadSignature)));

    // Our signature over someone else's claims.
    let parts: Vec<&str> = token.split('.').collect();
    let admin = serde_json::json!({ "sub": claims.sub, "kind": "admin", "iat": claims.iat, "exp": claims.exp, "jti": claims.jti });
    let tampered = format!("{}.{}.{}", parts[0], b64(admin.to_string().as_bytes()), parts[2]);
    assert!(matches!(access.verify(&tampered, t0()), Err(TokenError::BadSignature)));

    // An unsigned token (`alg: none`) and one claiming another algorithm.
    for alg in ["none", "HS512", "RS256"] {
        let header = b64(format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#).as_bytes());
        let forged = format!("{header}.{}.{}", parts[1], if alg == "none" { "" } else { parts[2] });
        let err = access.verify(&forged, t0()).unwrap_err();
        if alg == "none" {
            assert!(matches!(err, TokenError::Malformed), "{alg}: no algorithm is no JWT of ours: {err:?}");
        } else {
            assert!(matches!(err, TokenError::BadSignature), "{alg}: {err:?}");
        }
    }
    // A truncated signature.
    let cut = &token[..token.len() - 3];
    assert!(matches!(access.verify(cut, t0()), Err(TokenError::BadSignature)));
}

#[test]
fn malformed_tokens_are_refused_as_malformed() {
    let access = AccessTokens::new(SECRET);
    let (token, _) = access.issue(&AccountId::new(), &Kind::User, t0());
    let header = token.split('.').next().unwrap();
    let not_claims = {
        // Validly signed, but the payload lacks our claims.
        let key = jsonwebtoken::EncodingKey::from_secret(SECRET);
        jsonwebtoken::encode(&jsonwebtoken::Header::default(), &serde_json::json!({ "sub": "x", "exp": 1 }), &key).unwrap()
    };
    for bad in [
        String::new(),
        "garbage".into(),
        "a.b.c".into(),
        "a.b".into(),
        format!("{token}.extra"),
        format!("{header}.!!!.sig"),
        format!("{}.{}.sig", b64(b"not json"), b64(b"{}")),
        not_claims,
    ] {
        let err = access.verify(&bad, t0()).unwrap_err();
        assert!(matches!(err, TokenError::Malformed), "{bad:?}: {err:?}");
    }
}

#[test]
#[should_panic(expected = "at least 32 bytes")]
fn short_secrets_are_refused() {
    let _ = AccessTokens::new(b"short");
}

#[tokio::test]
async fn refresh_tokens_rotate_within_their_family() {
    for backend in platform_db::testing::backends() {
        let t = db(backend).await;
        let tokens = tokens();
        let who = account(&t.db).await;
        let first: Pair = tokens.issue(&t.db, &who, &Kind::User, t0()).await.unwrap();
        assert_eq!(first.refresh_expires_at, t0() + Duration::days(30));
        assert_eq!(first.access_expires_at, t0() + Duration::minutes(15));
        let claims = tokens.verify(&first.access_token, t0()).unwrap();
        assert_eq!(claims.account::<AccountId>(), Some(who));

        let later = t0() + Duration::days(10);
        let second: Pair = tokens.rotate(&t.db, &first.refresh_token, later).await.unwrap();
        assert_eq!((second.account_id, second.kind, second.family), (who, Kind::User, first.family), "{backend:?}");
        assert_ne!(second.refresh_token, first.refresh_token);
        assert_eq!(second.refresh_expires_at, later + Duration::days(30), "each rotation renews the lifetime");
        assert_eq!(tokens.verify(&second.access_token, later).unwrap().kind, "user");

        let third: Pair = tokens.rotate(&t.db, &second.refresh_token, later).await.unwrap();
        assert_eq!(third.family, first.family);

        // Only hashes are stored; one row per token, the used ones marked.
        let rows: Vec<(String, bool)> = on_pool!(&t.db, p => sqlx::query_as(
            "SELECT token_hash, used_at IS NOT NULL FROM refresh_tokens ORDER BY created_at, used_at IS NULL").fetch_all(p).await.unwrap());
        let hashes: Vec<String> = [&first, &second, &third].iter().map(|p| platform_accounts::hash_token(&p.refresh_token)).collect();
        assert_eq!(rows, vec![(hashes[0].clone(), true), (hashes[1].clone(), true), (hashes[2].clone(), false)], "{backend:?}");

        // A second sign-in is a family of its own.
        let other: Pair = tokens.issue(&t.db, &who, &Kind::User, t0()).await.unwrap();
        assert_ne!(other.family, first.family);
    }
}

#[tokio::test]
async fn a_reused_refresh_token_revokes_its_family() {
    for backend in platform_db::testing::backends() {
        let t = db(backend).await;
        let tokens = tokens();
        let who = account(&t.db).await;
        let first: Pair = tokens.issue(&t.db, &who, &Kind::User, t0()).await.unwrap();
        let elsewhere: Pair = tokens.issue(&t.db, &who, &Kind::User, t0()).await.unwrap();
        let second: Pair = tokens.rotate(&t.db, &first.refresh_token, t0()).await.unwrap();

        let reuse = tokens.rotate::<AccountId, Kind>(&t.db, &first.refresh_token, t0()).await.unwrap_err();
        assert!(matches!(reuse, TokenError::Reused), "{backend:?}: {reuse:?}");
        let next = tokens.rotate::<AccountId, Kind>(&t.db, &second.refresh_token, t0()).await.unwrap_err();
        assert!(matches!(next, TokenError::Revoked), "{backend:?}: the legitimate successor is revoked too: {next:?}");
        let again = tokens.rotate::<AccountId, Kind>(&t.db, &first.refresh_token, t0()).await.unwrap_err();
        assert!(matches!(again, TokenError::Revoked), "{backend:?}: {again:?}");

        // Another sign-in of the same account is untouched.
        assert!(tokens.rotate::<AccountId, Kind>(&t.db, &elsewhere.refresh_token, t0()).await.is_ok());
    }
}

#[tokio::test]
async fn expired_unknown_and_revoked_refresh_tokens_fail() {
    for backend in platform_db::testing::backends() {
        let t = db(backend).await;
        let tokens = tokens().with_refresh_lifetime(Duration::hours(1));
        let who = account(&t.db).await;
        let pair: Pair = tokens.issue(&t.db, &who, &Kind::User, t0()).await.unwrap();
        assert_eq!(pair.refresh_expires_at, t0() + Duration::hours(1));
        let at_expiry = tokens.rotate::<AccountId, Kind>(&t.db, &pair.refresh_token, t0() + Duration::hours(1)).await.unwrap_err();
        assert!(matches!(at_expiry, TokenError::Expired), "{backend:?}: {at_expiry:?}");
        // Refusing an expired token marks nothing: it stays merely expired.
        let again = tokens.rotate::<AccountId, Kind>(&t.db, &pair.refresh_token, t0() + Duration::hours(2)).await.unwrap_err();
        assert!(matches!(again, TokenError::Expired), "{backend:?}: {again:?}");
        assert!(tokens.rotate::<AccountId, Kind>(&t.db, &pair.refresh_token, t0() + Duration::minutes(59)).await.is_ok());

        let unknown = tokens.rotate::<AccountId, Kind>(&t.db, "no-such-token", t0()).await.unwrap_err();
        assert!(matches!(unknown, TokenError::Unknown), "{unknown:?}");

        // Signing out one device (by its token), then a whole account.
        let phone: Pair = tokens.issue(&t.db, &who, &Kind::User, t0()).await.unwrap();
        let phone = tokens.rotate::<AccountId, Kind>(&t.db, &phone.refresh_token, t0()).await.unwrap();
        let laptop: Pair = tokens.issue(&t.db, &who, &Kind::User, t0()).await.unwrap();
        assert!(tokens.revoke(&t.db, &phone.refresh_token, t0()).await.unwrap());
        assert!(!tokens.revoke(&t.db, "no-such-token", t0()).await.unwrap());
        let err = tokens.rotate::<AccountId, Kind>(&t.db, &phone.refresh_token, t0()).await.unwrap_err();
        assert!(matches!(err, TokenError::Revoked), "{err:?}");
        assert_eq!(tokens.revoke_family(&t.db, phone.family, t0()).await.unwrap(), 0, "already revoked");

        let other = account(&t.db).await;
        let theirs: Pair = tokens.issue(&t.db, &other, &Kind::Admin, t0()).await.unwrap();
        // The laptop's token, the first token (used, not revoked) and its successor.
        assert_eq!(tokens.revoke_account(&t.db, &who, t0()).await.unwrap(), 3, "{backend:?}");
        let err = tokens.rotate::<AccountId, Kind>(&t.db, &laptop.refresh_token, t0()).await.unwrap_err();
        assert!(matches!(err, TokenError::Revoked), "{err:?}");
        let theirs: Pair = tokens.rotate(&t.db, &theirs.refresh_token, t0()).await.unwrap();
        assert_eq!(theirs.kind, Kind::Admin);

        // Purging drops tokens expired before the cutoff, whatever their state.
        let left = |db: platform_db::Db| async move {
            on_pool!(&db, p => sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM refresh_tokens").fetch_one(p).await.unwrap())
        };
        let before = left(t.db.clone()).await;
        let purged = tokens.purge_expired(&t.db, t0() + Duration::minutes(61)).await.unwrap();
        assert_eq!(left(t.db.clone()).await, before - purged as i64);
        assert_eq!(purged, before as u64 - 1, "{backend:?}: all but the successor issued at t0 + 59min");
    }
}

#[tokio::test]
async fn refresh_tokens_of_inactive_accounts_do_not_rotate() {
    for backend in platform_db::testing::backends() {
        let t = db(backend).await;
        let tokens = tokens().for_active(ActiveAccounts::new("accounts", "id", "is_active"));
        let who = account(&t.db).await;
        let pair: Pair = tokens.issue(&t.db, &who, &Kind::User, t0()).await.unwrap();
        set_active(&t.db, who, false).await;
        let err = tokens.rotate::<AccountId, Kind>(&t.db, &pair.refresh_token, t0()).await.unwrap_err();
        assert!(matches!(err, TokenError::Inactive), "{backend:?}: {err:?}");
        set_active(&t.db, who, true).await;
        assert!(tokens.rotate::<AccountId, Kind>(&t.db, &pair.refresh_token, t0()).await.is_ok(), "{backend:?}: the refusal used nothing");

        let ghost: Pair = tokens.issue(&t.db, &AccountId::new(), &Kind::User, t0()).await.unwrap();
        let err = tokens.rotate::<AccountId, Kind>(&t.db, &ghost.refresh_token, t0()).await.unwrap_err();
        assert!(matches!(err, TokenError::Inactive), "an account with no row is not active: {err:?}");
    }
}

/// Two clients exchanging one token at once: exactly one gets a pair; the
/// other is a reuse, which revokes the family, the winner's new token too.
#[tokio::test]
async fn concurrent_rotations_of_one_token_let_exactly_one_through() {
    for backend in platform_db::testing::backends() {
        let t = db(backend).await;
        let tokens = tokens();
        let who = account(&t.db).await;
        for racers in [2, 2, 2, 8] {
            let pair: Pair = tokens.issue(&t.db, &who, &Kind::User, t0()).await.unwrap();
            let start = std::sync::Arc::new(tokio::sync::Barrier::new(racers));
            let tasks: Vec<_> = (0..racers)
                .map(|_| {
                    let (db, tokens, token, start) = (t.db.clone(), tokens.clone(), pair.refresh_token.clone(), start.clone());
                    tokio::spawn(async move {
                        start.wait().await;
                        tokens.rotate::<AccountId, Kind>(&db, &token, t0()).await
                    })
                })
                .collect();
            let mut results = Vec::new();
            for task in tasks {
                results.push(task.await.unwrap());
            }
            let won: Vec<&Pair> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
            let reused = results.iter().filter(|r| matches!(r, Err(TokenError::Reused))).count();
            let revoked = results.iter().filter(|r| matches!(r, Err(TokenError::Revoked))).count();
            assert_eq!(won.len(), 1, "{backend:?}: {results:?}");
            // A loser finds the token used, or (when another loser got there
            // first and revoked the family) revoked; two racers are one of each.
            assert!(reused >= 1 && reused + revoked == racers - 1, "{backend:?}: {results:?}");
            if racers == 2 {
                assert_eq!(reused, 1, "{backend:?}: {results:?}");
            }
            let err = tokens.rotate::<AccountId, Kind>(&t.db, &won[0].refresh_token, t0()).await.unwrap_err();
            assert!(matches!(err, TokenError::Revoked), "{backend:?}: the family is revoked: {err:?}");
        }
    }
}
