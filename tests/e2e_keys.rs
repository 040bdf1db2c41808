//! The end-to-end key directory (issue 18, `docs/e2ee.md`): an account publishes its public keys
//! with its private keys wrapped in the browser, gets the wrapped documents back (another
//! device), re-wraps them (a new password), and everyone else reads only the public keys and the
//! safety number. Formats are checked; nothing the server keeps opens the keys.

mod common;

use common::e2e::{bundle, wrapped, AGREEMENT, SIGNING};
use common::{spawn_app, unique_name};
use serde_json::{json, Value};

#[tokio::test]
async fn an_account_publishes_its_keys_and_others_read_only_the_public_part() {
    let app = spawn_app().await;
    let (me, other) = app.two_users("keys", "reader").await;
    let name = me.name().await;
    let mut watching = other.gateway().await;
    me.call("GET", "/api/user/@me/keys", None)
        .await
        .expect_error(404, "not_found");
    other
        .call("GET", &format!("/api/user/{name}/keys"), None)
        .await
        .expect_error(404, "not_found");

    let own: Value = me
        .call("PUT", "/api/user/@me/keys", Some(bundle()))
        .await
        .expect(200);
    assert_eq!(own["agreement_public"], AGREEMENT);
    assert_eq!(own["password_wrapped"], wrapped("pbkdf2-sha256", 'A'));
    assert_eq!(own["recovery_wrapped"], wrapped("hkdf-sha256", 'B'));
    let fingerprint = own["fingerprint"]
        .as_str()
        .expect("a fingerprint")
        .to_owned();
    assert_eq!(fingerprint.len(), 64);
    let safety = own["safety_number"]
        .as_str()
        .expect("a safety number")
        .to_owned();
    assert_eq!(safety.split(' ').count(), 6, "{safety}");

    // Another device of the account gets the wrapped documents back.
    let again: Value = me.call("GET", "/api/user/@me/keys", None).await.expect(200);
    assert_eq!(again, own);
    // Others see the public keys and the same safety number, never the wrapped documents.
    let public: Value = other
        .call(
            "GET",
            &format!("/api/user/{}/keys", name.to_uppercase()),
            None,
        )
        .await
        .expect(200);
    assert_eq!(public["signing_public"], SIGNING);
    assert_eq!(public["safety_number"], safety.as_str());
    assert!(public.get("password_wrapped").is_none() && public.get("recovery_wrapped").is_none());

    // A new password re-wraps the same keys: the fingerprint stays.
    let rewrapped: Value = me
        .call(
            "PUT",
            "/api/user/@me/keys/wrapped",
            Some(json!({"password_wrapped": wrapped("pbkdf2-sha256", 'C')})),
        )
        .await
        .expect(200);
    assert_eq!(rewrapped["fingerprint"], fingerprint.as_str());
    assert_eq!(rewrapped["password_wrapped"], wrapped("pbkdf2-sha256", 'C'));
    assert_eq!(rewrapped["recovery_wrapped"], wrapped("hkdf-sha256", 'B'));

    // Publishing the first keys and re-wrapping them warned nobody.
    watching
        .assert_no_event(|_: &common::protocol::KeysChanged| true)
        .await;
    // New keys are a new fingerprint, and everyone hears of the change.
    let mut swapped = bundle();
    swapped["agreement_public"] = SIGNING.into();
    swapped["signing_public"] = AGREEMENT.into();
    let replaced: Value = me
        .call("PUT", "/api/user/@me/keys", Some(swapped))
        .await
        .expect(200);
    assert_ne!(replaced["fingerprint"], fingerprint.as_str());
    let warned: common::protocol::KeysChanged = watching.event().await;
    assert_eq!(
        (warned.user.as_str(), warned.fingerprint.as_str()),
        (
            name.as_str(),
            replaced["fingerprint"].as_str().unwrap_or_default()
        )
    );
    assert_eq!(
        warned.safety_number,
        replaced["safety_number"].as_str().unwrap_or_default()
    );
}

#[tokio::test]
async fn keys_that_do_not_fit_the_format_are_refused_and_guests_have_none() {
    let app = spawn_app().await;
    let me = app.caller(&unique_name("strict")).await;
    let mut weak = bundle();
    weak["password_wrapped"]["iterations"] = 1000.into();
    let mut swapped_slots = bundle();
    swapped_slots["password_wrapped"] = wrapped("hkdf-sha256", 'A');
    let mut not_p256 = bundle();
    not_p256["agreement_public"] = "AAAA".into();
    let mut short_salt = bundle();
    short_salt["recovery_wrapped"]["salt"] = "AAAA".into();
    let mut extra = bundle();
    extra["recovery_wrapped"]["note"] = "hello".into();
    for bad in [weak, swapped_slots, not_p256, short_salt, extra] {
        me.call("PUT", "/api/user/@me/keys", Some(bad.clone()))
            .await
            .expect_error(400, "invalid_keys");
    }
    me.call("GET", "/api/user/@me/keys", None)
        .await
        .expect_error(404, "not_found");
    me.call(
        "PUT",
        "/api/user/@me/keys/wrapped",
        Some(json!({"recovery_wrapped": wrapped("hkdf-sha256", 'D')})),
    )
    .await
    .expect_error(404, "not_found");

    let guest = app.guest_token(&unique_name("g")).await;
    app.request("PUT", "/api/user/@me/keys")
        .bearer(&guest)
        .json(bundle())
        .send()
        .await
        .expect_error(403, "registration_required");
}
