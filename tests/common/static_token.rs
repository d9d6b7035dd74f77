//! A credential that hands out the same bearer token, for tests whose Graph is a scripted fake that checks
//! no token (the worker's real credential needs the identity-platform simulator).

#[derive(Debug)]
pub struct StaticToken;

#[async_trait::async_trait]
impl azure_core::credentials::TokenCredential for StaticToken {
    async fn get_token(
        &self,
        _: &[&str],
        _: Option<azure_core::credentials::TokenRequestOptions<'_>>,
    ) -> azure_core::Result<azure_core::credentials::AccessToken> {
        let expires = azure_core::time::OffsetDateTime::now_utc() + azure_core::time::Duration::hours(1);
        Ok(azure_core::credentials::AccessToken::new("fake-token", expires))
    }
}
