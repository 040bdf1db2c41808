//! `parlor user add`: creates an account, or resets the password of an existing one. A role
//! changes only when `--role` says so: re-adding an existing root without it keeps it root.

use crate::auth::Auth;
use crate::clock::Clock;
use crate::config::Config;
use crate::domain::{Name, Role};
use crate::store::Store;
use anyhow::Context;
use std::io::{BufRead, IsTerminal};

/// Creates `name` (as `role`, or `user`) or resets its password (and its role only when
/// `role` is given), then prints what happened.
pub async fn add(config: Config, name: &str, role: Option<Role>) -> anyhow::Result<()> {
    let name = Name::parse(name).with_context(|| format!("invalid user name {name:?}"))?;
    let password = read_password()?;
    std::fs::create_dir_all(&config.data_dir).with_context(|| {
        format!(
            "cannot create the data directory {}",
            config.data_dir.display()
        )
    })?;
    let store = Store::connect(&config.database_url())
        .await
        .context("cannot open the database")?;
    let outcome = save(&store, &config, &name, password, role).await;
    store.close().await;
    println!("{}", outcome?);
    Ok(())
}

/// Writes the account and says what changed.
async fn save(
    store: &Store,
    config: &Config,
    name: &Name,
    password: String,
    role: Option<Role>,
) -> anyhow::Result<String> {
    let before = store
        .users()
        .by_name_key(&name.key())
        .await
        .context("cannot read the accounts")?
        .map(|user| user.role());
    let auth = Auth::new(store.clone(), config.auth_settings()?, Clock::system());
    let user = auth
        .upsert_user(
            name.as_str(),
            password,
            role.or(before).unwrap_or(Role::User),
        )
        .await?;
    let (name, now) = (&user.name, user.role.as_str());
    // The end-to-end keys are wrapped by the old password, which a reset cannot re-wrap.
    let keys_warning = if before.is_some()
        && store
            .account_keys()
            .of(user.id)
            .await
            .context("cannot read the account's keys")?
            .is_some()
    {
        format!(
            "\nwarning: {name} has end-to-end keys wrapped by the old password; its encrypted \
             history needs its recovery key (the web app asks for it at the next login)"
        )
    } else {
        String::new()
    };
    let said = match (before, role) {
        (None, _) => format!("user {name} created with role {now}"),
        (Some(_), None) => {
            format!("user {name}: password reset; role {now} kept (change it with --role)")
        }
        (Some(was), Some(_)) if was == user.role => {
            format!("user {name}: password reset; role {now} unchanged")
        }
        (Some(was), Some(_)) => format!(
            "user {name}: password reset; role changed from {} to {now}",
            was.as_str()
        ),
    };
    Ok(said + &keys_warning)
}

/// The password: prompted for on a terminal, otherwise the first line of standard input
/// without its line ending. Every other character, spaces included, is part of it.
fn read_password() -> anyhow::Result<String> {
    let password = if std::io::stdin().is_terminal() {
        rpassword::prompt_password("Password: ").context("cannot read the password")?
    } else {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("cannot read the password from standard input")?;
        without_line_ending(&line).to_owned()
    };
    if password.is_empty() {
        anyhow::bail!("the password is empty; nothing was changed");
    }
    Ok(password)
}

/// `line` without one trailing `\n` or `\r\n`.
fn without_line_ending(line: &str) -> &str {
    line.strip_suffix("\r\n")
        .or_else(|| line.strip_suffix('\n'))
        .unwrap_or(line)
}

#[cfg(test)]
mod tests {
    use super::without_line_ending;

    #[test]
    fn only_the_line_ending_is_dropped() {
        assert_eq!(without_line_ending(" pass word \n"), " pass word ");
        assert_eq!(without_line_ending("pass\r\n"), "pass");
        assert_eq!(without_line_ending("pass\r\r\n"), "pass\r");
        assert_eq!(without_line_ending("\tpass"), "\tpass");
        assert_eq!(without_line_ending("\n"), "");
    }
}
