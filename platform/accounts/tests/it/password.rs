//! Argon2id hashing, verification and the strength rule.

use platform_accounts::password::{hash, strength, verify, Cost};

#[tokio::test]
async fn hashes_verify_only_their_password() {
    let h = hash("Str0ng!pw".into(), Cost::Fast).await.unwrap();
    assert!(h.starts_with("$argon2id$"), "{h}");
    assert_ne!(h, hash("Str0ng!pw".into(), Cost::Fast).await.unwrap(), "fresh salt each time");
    assert!(verify("Str0ng!pw".into(), Some(h.clone())).await);
    assert!(!verify("Str0ng!pW".into(), Some(h)).await);
}

#[tokio::test]
async fn unknown_logins_and_garbage_hashes_never_match() {
    // No stored hash: checked against the stand-in, and false even for its password.
    assert!(!verify("not-a-real-password".into(), None).await);
    assert!(!verify("Str0ng!pw".into(), None).await);
    assert!(!verify("Str0ng!pw".into(), Some("not a hash".into())).await);
    assert!(!verify("Str0ng!pw".into(), Some(String::new())).await);
}

#[tokio::test]
async fn production_hashes_carry_their_parameters() {
    let h = hash("Str0ng!pw".into(), Cost::fast_if(false)).await.unwrap();
    assert!(h.contains("m=19456,t=2,p=1"), "{h}");
    assert!(verify("Str0ng!pw".into(), Some(h)).await);
    assert_eq!(Cost::fast_if(true), Cost::Fast);
}

#[tokio::test]
async fn a_burst_of_hashes_all_finish() {
    let tasks: Vec<_> = (0..16).map(|i| tokio::spawn(hash(format!("Str0ng!pw{i}"), Cost::Fast))).collect();
    for t in tasks {
        assert!(t.await.unwrap().is_ok());
    }
}

#[test]
fn strength_needs_every_class_within_bounds() {
    let long_ok = format!("Aa1!{}", "x".repeat(124));
    let too_long = format!("Aa1!{}", "x".repeat(125));
    let cases: &[(&str, Option<&str>)] = &[
        ("Str0ng!pw", None),
        ("Ünïcode1!", None),
        ("Aa1!aaaa", None),
        (&long_ok, None),
        ("", Some("Password must be at least 8 characters")),
        ("S0!a", Some("Password must be at least 8 characters")),
        ("Aa1!aaa", Some("Password must be at least 8 characters")),
        (&too_long, Some("Password must be at most 128 characters")),
        ("alllower1!", Some("Password needs an uppercase letter")),
        ("ALLUPPER1!", Some("Password needs a lowercase letter")),
        ("NoDigits!!", Some("Password needs a digit")),
        ("NoSymbol12", Some("Password needs a symbol such as ! ? # or @")),
        ("No Symbol12", Some("Password needs a symbol such as ! ? # or @")),
    ];
    for (pw, want) in cases {
        let got = strength(pw).err();
        assert_eq!(got.as_ref().map(|e| e.message.as_str()), *want, "{pw:?}");
        if let Some(e) = got {
            assert_eq!(e.field, "password");
        }
    }
}
