//! The stable, machine-readable error codes shared by REST responses and protocol acks.
//!
//! Each layer has its own error type (`AuthError`, `CoreError`, `HttpError`, …) and says which
//! [`ErrorCode`] it is; the code decides the HTTP status here, once. Clients (and translations in
//! the UI) key on the code, never on the message text.

use serde::Serialize;

/// Every error code of the protocol and the REST API; `docs/protocol.md` describes each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    InvalidRequest,
    PayloadTooLarge,
    UnsupportedMediaType,
    MethodNotAllowed,
    InvalidFrame,
    UnknownCommand,
    InvalidPayload,
    InvalidUsername,
    InvalidNick,
    InvalidEmail,
    PasswordTooShort,
    NoPassword,
    UsernameTaken,
    NickTaken,
    EmailTaken,
    AlreadyConnected,
    InvalidCredentials,
    Unauthenticated,
    AlreadyIdentified,
    OriginNotAllowed,
    Forbidden,
    NotFound,
    NotInRoom,
    RegistrationRequired,
    Banned,
    RoomTaken,
    InvalidRoom,
    InviteUnusable,
    RoomNotActive,
    RoomLocked,
    Muted,
    EmptyMessage,
    MessageTooLong,
    RateLimited,
    /// An upload would pass the uploader's (or the room's) allowance.
    QuotaExceeded,
    /// The room's media policy refuses this kind of file.
    MediaNotAllowed,
    /// A file that claims a type it does not hold together as (an image that does not decode).
    UnreadableFile,
    /// An attachment id that is not one of the sender's pending uploads for this room.
    AttachmentUnavailable,
    /// The message's edit window (`edit_window_secs`) has passed, or editing is off.
    EditWindowClosed,
    /// A reaction would pass the limits per message or per user.
    TooManyReactions,
    /// A message names more members than `max_mentions`.
    TooManyMentions,
    /// End-to-end keys that do not have the format `docs/e2ee.md` fixes.
    InvalidKeys,
    /// Plain `text` sent to an end-to-end room: only envelopes go there.
    E2eRequired,
    /// An envelope sent to a room that is not end-to-end.
    NotE2e,
    /// An envelope or room keys of an epoch that is not the room's current one.
    StaleEpoch,
    /// The author of an envelope holds no key of the room's current epoch.
    EpochKeyMissing,
    /// The current epoch's key was already made by another member; read it.
    EpochKeyExists,
    /// An end-to-end room needs its creator's end-to-end keys.
    KeysRequired,
    /// The recipient does not take conversations or whispers from the caller (its privacy
    /// setting `dm_from`).
    NotAcceptingMessages,
    /// `@here`/`@room` from someone the server does not let call on the whole room.
    MentionNotAllowed,
    /// The AI companion is not configured on this server.
    AiDisabled,
    /// The AI companion is answering as many as it can (or already answers this user).
    AiBusy,
    /// A payment webhook call whose signature is missing or does not match.
    InvalidSignature,
    /// A payment webhook call signed too long ago (or in the future): a possible replay.
    StaleSignature,
    /// A payment for an account that does not exist.
    UnknownAccount,
    Unavailable,
    Internal,
}

impl ErrorCode {
    /// The code as it appears on the wire.
    pub fn as_str(self) -> &'static str {
        use ErrorCode::*;
        match self {
            InvalidRequest => "invalid_request",
            PayloadTooLarge => "payload_too_large",
            UnsupportedMediaType => "unsupported_media_type",
            MethodNotAllowed => "method_not_allowed",
            InvalidFrame => "invalid_frame",
            UnknownCommand => "unknown_command",
            InvalidPayload => "invalid_payload",
            InvalidUsername => "invalid_username",
            InvalidNick => "invalid_nick",
            InvalidEmail => "invalid_email",
            PasswordTooShort => "password_too_short",
            NoPassword => "no_password",
            UsernameTaken => "username_taken",
            NickTaken => "nick_taken",
            EmailTaken => "email_taken",
            AlreadyConnected => "already_connected",
            InvalidCredentials => "invalid_credentials",
            Unauthenticated => "unauthenticated",
            AlreadyIdentified => "already_identified",
            OriginNotAllowed => "origin_not_allowed",
            Forbidden => "forbidden",
            NotFound => "not_found",
            NotInRoom => "not_in_room",
            RegistrationRequired => "registration_required",
            Banned => "banned",
            RoomTaken => "room_taken",
            InvalidRoom => "invalid_room",
            InviteUnusable => "invite_unusable",
            RoomNotActive => "room_not_active",
            RoomLocked => "room_locked",
            Muted => "muted",
            EmptyMessage => "empty_message",
            MessageTooLong => "message_too_long",
            RateLimited => "rate_limited",
            QuotaExceeded => "quota_exceeded",
            MediaNotAllowed => "media_not_allowed",
            UnreadableFile => "unreadable_file",
            AttachmentUnavailable => "attachment_unavailable",
            EditWindowClosed => "edit_window_closed",
            TooManyReactions => "too_many_reactions",
            TooManyMentions => "too_many_mentions",
            NotAcceptingMessages => "not_accepting_messages",
            InvalidKeys => "invalid_keys",
            E2eRequired => "e2e_required",
            NotE2e => "not_e2e",
            StaleEpoch => "stale_epoch",
            EpochKeyMissing => "epoch_key_missing",
            EpochKeyExists => "epoch_key_exists",
            KeysRequired => "keys_required",
            MentionNotAllowed => "mention_not_allowed",
            AiDisabled => "ai_disabled",
            AiBusy => "ai_busy",
            InvalidSignature => "invalid_signature",
            StaleSignature => "stale_signature",
            UnknownAccount => "unknown_account",
            Unavailable => "unavailable",
            Internal => "internal",
        }
    }

    /// The HTTP status a REST response with this code carries.
    pub fn http_status(self) -> u16 {
        use ErrorCode::*;
        match self {
            InvalidRequest | InvalidFrame | UnknownCommand | InvalidPayload | E2eRequired
            | NotE2e => 422,
            InvalidUsername | InvalidNick | InvalidEmail | PasswordTooShort | NoPassword
            | EmptyMessage | MessageTooLong | InvalidRoom | TooManyMentions | InvalidKeys => 400,
            UsernameTaken
            | NickTaken
            | EmailTaken
            | AlreadyConnected
            | AlreadyIdentified
            | NotInRoom
            | RoomTaken
            | RoomNotActive
            | AttachmentUnavailable
            | TooManyReactions
            | StaleEpoch
            | EpochKeyMissing
            | EpochKeyExists
            | KeysRequired => 409,
            InvalidCredentials | Unauthenticated | InvalidSignature | StaleSignature => 401,
            OriginNotAllowed | Forbidden | RegistrationRequired | Banned | RoomLocked | Muted
            | MediaNotAllowed | EditWindowClosed | MentionNotAllowed | NotAcceptingMessages => 403,
            PayloadTooLarge => 413,
            UnreadableFile => 422,
            UnsupportedMediaType => 415,
            MethodNotAllowed => 405,
            InviteUnusable => 410,
            // No companion here: like an endpoint this server does not have.
            NotFound | UnknownAccount | AiDisabled => 404,
            RateLimited | QuotaExceeded | AiBusy => 429,
            Unavailable => 503,
            Internal => 500,
        }
    }
}

/// The `{"code", "message"}` body every error reply carries, on every framing; a refusal that
/// lifts by itself adds `retry_after`.
#[derive(Clone, Debug, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub code: ErrorCode,
    pub message: String,
    /// Seconds to wait before trying again, when the server knows (absent otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
}

impl ErrorBody {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    /// The same body, saying when to try again.
    pub fn retry_after(self, secs: Option<u64>) -> Self {
        Self {
            retry_after: secs,
            ..self
        }
    }
}
