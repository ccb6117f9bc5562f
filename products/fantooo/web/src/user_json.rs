//! JSON as users receive it, over the API and the WebSocket. Users know two
//! parties in a chat: themselves (`user`) and the profile they write to
//! (`profile`); the stored names of the two sides and of the chat's columns
//! stay in staff payloads.

use fantooo_domain::chat::{Side, Viewer};
use fantooo_store::chats::Chat;
use fantooo_store::messages::Message;
use serde_json::{json, Value};

/// A side as `viewer` names it.
pub fn side(viewer: Viewer, side: Side) -> &'static str {
    match viewer {
        Viewer::User(_) => side.public_name(),
        _ => side.as_str(),
    }
}

/// A message for a user: `sender_type` is `user` or `profile`.
pub fn message(m: &Message) -> Value {
    let mut v = serde_json::to_value(m).unwrap_or_default();
    if let Some(obj) = v.as_object_mut() {
        obj.insert("sender_type".into(), json!(m.sender_type.public_name()));
    }
    v
}

/// A message as `viewer` receives it.
pub fn message_for(viewer: Viewer, m: &Message) -> Value {
    match viewer {
        Viewer::User(_) => message(m),
        _ => serde_json::to_value(m).unwrap_or_default(),
    }
}

/// A chat for its user: `user_id` and `profile_id`.
pub fn chat(c: &Chat) -> Value {
    let mut v = serde_json::to_value(c).unwrap_or_default();
    if let Some(obj) = v.as_object_mut() {
        obj.remove("real_user_id");
        obj.remove("fictional_user_id");
        obj.insert("user_id".into(), json!(c.real_user_id));
        obj.insert("profile_id".into(), json!(c.fictional_user_id));
    }
    v
}

/// A chat as `viewer` receives it.
pub fn chat_for(viewer: Viewer, c: &Chat) -> Value {
    match viewer {
        Viewer::User(_) => chat(c),
        _ => serde_json::to_value(c).unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fantooo_domain::ids::UserId;

    #[test]
    fn users_get_the_public_words_and_staff_the_stored_ones() {
        let user = Viewer::User(UserId::new());
        let op = Viewer::Operator(fantooo_domain::ids::OperatorId::new());
        assert_eq!((side(user, Side::Real), side(user, Side::Fictional)), ("user", "profile"));
        assert_eq!((side(op, Side::Real), side(op, Side::Fictional)), ("real", "fictional"));
    }
}
