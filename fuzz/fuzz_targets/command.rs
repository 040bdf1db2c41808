//! Command decoding, as every framing does it: a name and JSON data from the client.
#![no_main]

use libfuzzer_sys::fuzz_target;
use parlor::core::{Command, Limits};

const LIMITS: Limits = Limits {
    max_message_chars: 500,
};

fuzz_target!(|input: &[u8]| {
    // The first line is the command's name, the rest its JSON data (as Socket.IO delivers
    // them); a native envelope is tried on the whole input too.
    let text = String::from_utf8_lossy(input);
    let (name, data) = text.split_once('\n').unwrap_or((&text, "null"));
    if let Ok(data) = serde_json::from_str::<serde_json::Value>(data) {
        let _ = Command::parse(name, data, &LIMITS);
    }
    if let Ok(serde_json::Value::Object(envelope)) = serde_json::from_str(&text) {
        if let Some(serde_json::Value::String(event)) = envelope.get("event") {
            let data = envelope.get("data").cloned().unwrap_or_default();
            let _ = Command::parse(event, data, &LIMITS);
        }
    }
});
