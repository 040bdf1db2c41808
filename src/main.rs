//! The `parlor` binary: everything lives in the library; this only starts the runtime.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    parlor::cli::run().await
}
