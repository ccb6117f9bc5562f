//! The real client against the local push service over loopback.

use platform_push::fake::FakePushService;
use platform_push::{Message, Outcome, PushError, PushSender, Subscription, Urgency, VapidKeys, WebPushClient};

#[tokio::test]
async fn a_push_arrives_encrypted_signed_and_decryptable() {
    let service = FakePushService::start().await.unwrap();
    let sub = service.subscribe();
    let keys = VapidKeys::generate();
    let client = WebPushClient::new(keys.clone(), "mailto:ops@example.com");
    let mut msg = Message::new(br#"{"title":"Order delivered"}"#.to_vec());
    msg.ttl = 600;
    msg.urgency = Urgency::High;
    msg.topic = Some("order-1".into());
    assert_eq!(client.send(&sub, &msg).await.unwrap(), Outcome::Delivered);
    let got = service.received_by(&sub);
    assert_eq!(got.len(), 1, "refused: {:?}", service.refused());
    assert_eq!(got[0].payload, msg.payload);
    assert_eq!((got[0].ttl, got[0].urgency.as_deref(), got[0].topic.as_deref()), (600, Some("high"), Some("order-1")));
    assert_eq!(got[0].vapid_key, keys.public_base64());
    assert_eq!(got[0].contact, "mailto:ops@example.com");
    // The body on the wire is not the plaintext.
    let req = client.request(&sub, &msg).unwrap();
    let wire = req.body().and_then(|b| b.as_bytes()).unwrap();
    assert!(!wire.windows(msg.payload.len()).any(|w| w == msg.payload.as_slice()));
    assert_eq!(req.headers()["content-encoding"], "aes128gcm");
}

#[tokio::test]
async fn a_push_for_someone_else_does_not_decrypt() {
    let service = FakePushService::start().await.unwrap();
    let alice = service.subscribe();
    let bob = service.subscribe();
    // Alice's endpoint with Bob's keys: the service cannot decrypt it.
    let wrong = Subscription { endpoint: alice.endpoint.clone(), ..bob };
    let client = WebPushClient::new(VapidKeys::generate(), "mailto:ops@example.com");
    let err = client.send(&wrong, &Message::new(b"hello".to_vec())).await.unwrap_err();
    assert!(matches!(err, PushError::Rejected { status: 400, .. }), "{err}");
    assert!(!err.is_transient());
    assert!(service.refused()[0].contains("does not decrypt"), "{:?}", service.refused());
    assert!(service.received().is_empty());
}

#[tokio::test]
async fn a_bad_contact_is_refused_and_an_expired_subscription_is_gone() {
    let service = FakePushService::start().await.unwrap();
    let sub = service.subscribe();
    let client = WebPushClient::new(VapidKeys::generate(), "ops@example.com");
    let err = client.send(&sub, &Message::new(b"x".to_vec())).await.unwrap_err();
    assert!(matches!(err, PushError::Rejected { status: 401, .. }), "{err}");
    let client = WebPushClient::new(VapidKeys::generate(), "https://example.com/contact");
    service.expire(&sub);
    assert_eq!(client.send(&sub, &Message::new(b"x".to_vec())).await.unwrap(), Outcome::Gone);
}

#[tokio::test]
async fn an_unreachable_service_is_transient() {
    let service = FakePushService::start().await.unwrap();
    let mut sub = service.subscribe();
    sub.endpoint = "http://127.0.0.1:9/push/x".into();
    let client = WebPushClient::new(VapidKeys::generate(), "mailto:ops@example.com");
    let err = client.send(&sub, &Message::new(b"x".to_vec())).await.unwrap_err();
    assert!(err.is_transient(), "{err}");
}

#[test]
fn keys_round_trip_and_bad_input_is_named() {
    let keys = VapidKeys::generate();
    let again = VapidKeys::from_base64(&keys.private_base64()).unwrap();
    assert_eq!(again.public_base64(), keys.public_base64());
    assert_eq!(platform_push::decode(&keys.public_base64()).unwrap().len(), 65);
    assert!(VapidKeys::from_base64("not a key!").is_err());
    let good =
        Subscription { endpoint: "https://push.example/x".into(), p256dh: keys.public_base64(), auth: platform_push::encode(&[7u8; 16]) };
    assert!(good.check().is_ok());
    let err = |s: Subscription| s.check().unwrap_err().to_string();
    assert!(err(Subscription { endpoint: "ftp://x/y".into(), ..good.clone() }).contains("endpoint"));
    assert!(err(Subscription { p256dh: "AAAA".into(), ..good.clone() }).contains("p256dh"));
    assert!(err(Subscription { auth: platform_push::encode(&[1u8; 8]), ..good.clone() }).contains("auth"));
    let client = WebPushClient::new(keys, "mailto:a@b.c");
    let big = Message::new(vec![b'a'; platform_push::MAX_PAYLOAD + 1]);
    assert!(matches!(client.request(&good, &big), Err(PushError::TooLarge(_))));
}
