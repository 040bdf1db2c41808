//! The domain parsers that take a client's strings: names, room names, slugs, message text,
//! client message ids, e-mail addresses, room codes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use parlor::domain::{ClientMsgId, Email, MessageText, Name, RoomCode, RoomName, RoomSlug};

fuzz_target!(|input: &str| {
    if let Ok(name) = Name::parse(input) {
        assert_eq!(Name::parse(name.as_str()).as_ref(), Ok(&name));
    }
    if let Ok(room) = RoomName::parse(input) {
        assert_eq!(RoomName::parse(room.as_str()).as_ref(), Ok(&room));
    }
    let _ = RoomSlug::parse(input);
    if let Ok(text) = MessageText::parse(input, 500) {
        assert!(!text.as_str().is_empty() && text.as_str().chars().count() <= 500);
    }
    let _ = ClientMsgId::parse(input);
    let _ = Email::parse(input);
    let _ = RoomCode::parse(input);
});
