//! Authentication methods and the registration report, per user: a full read (the paged report, or `$batch` per
//! page of users where there is no report), then per sync only the users named by audit events since the last one.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::fullread::{PageWalk, Step};
use super::line::LineWriter;
use super::norm::{deletion, id_of, live, odata_type, parse_ts, record, record_dates};
use super::security_info::{audit_url, changes, merge, Change, Triggers, OVERLAP};
use super::{ExtractCtx, ExtractError, Extractor, Stop};
use crate::airsync::line::Line;
use crate::airsync::state::TypeState;
use crate::graph::json::{view, Field, Json};
use crate::graph::GraphError;
use crate::schema::{self, coerce, Kind, RecordType};

/// 20 users a page (`REREAD_STEP`): each page's fan-out runs to its end, and its per-user method reads are
/// report requests (each its own `$batch` envelope, about 2 s apart under Graph's reports limit), so a page
/// must stay small enough to finish between the soft deadline and the hard timeout: 20 take about 40 s.
pub const USERS_PATH: &str = "/v1.0/users?$select=id,userPrincipalName&$top=20";
/// The report's largest page (graph-api.md §8.12 assumes ≤ 999): reports-bucket requests are the scarce ones.
pub const REGISTRATION_PATH: &str = "/v1.0/reports/authenticationMethods/userRegistrationDetails?$top=999";
const REPORT_PAGE: u64 = 999;
/// Users re-read per step of an incremental sync: one step's reads (a report request each, about 2 s apart
/// under Graph's reports limit) end well inside the time between the soft and the hard timeout.
const REREAD_STEP: usize = 20;
/// Audit pages (1,000 events each) whose changes an incremental sync that reads the audits itself re-reads
/// together. The pages of one part are fetched even past the soft deadline, so that every invocation gets
/// through a part: they are reports requests (about 2 s apart), so 10 take about 20 s, under a minute when
/// other types share the bucket, well inside the 3 minutes between the default soft and hard timeouts.
pub const PART_PAGES: usize = 10;
/// The id Graph gives every user's `passwordAuthenticationMethod`.
pub const PASSWORD_METHOD_ID: &str = "28c10230-6103-485e-b985-444c60001490";

/// Where this sync's authentication methods come from, decided before the extractors start. Graph throttles
/// the per-user method reads under the reports limits (5 requests / 10 s, graph-api.md §8.12): a 100,000-user
/// tenant would take days. So where the registration report is read (P1/P2 and `AuditLog.Read.All`), its
/// `methodsRegistered` gives the methods (one record per user and method, `<userId>_<reportName>`), read once
/// with `user_registration_details`; only without the report are the methods read per user.
#[derive(Debug, Default)]
pub struct MethodsSource {
    from_report: bool,
    pushed: AtomicU64,
}

impl MethodsSource {
    pub fn new(from_report: bool) -> MethodsSource {
        MethodsSource { from_report, pushed: AtomicU64::new(0) }
    }

    pub fn from_report(&self) -> bool {
        self.from_report
    }

    /// The method records the report read pushed in this invocation (for the methods type's statistics).
    pub fn pushed(&self) -> u64 {
        self.pushed.load(Ordering::Relaxed)
    }
}

/// A record type whose source is read per user.
#[async_trait::async_trait]
pub trait PerUser: Send + Sync {
    fn record_type(&self) -> &'static str;
    /// The paged list walked by an initial (full) read.
    fn full_path(&self) -> &'static str;
    /// The audit events that make an incremental sync re-read a user.
    fn triggers(&self) -> Triggers;
    /// Turns one page of the full read into records.
    async fn full_page(&self, ctx: &ExtractCtx, items: &[Json<'_>], state: &mut TypeState) -> Result<(), ExtractError>;
    /// Re-reads one step of the users whose security info changed (at most `REREAD_STEP`).
    async fn reread(&self, ctx: &ExtractCtx, changes: &[Change], state: &mut TypeState) -> Result<(), ExtractError>;
    /// Reads the source whole instead, when that takes fewer requests than reading the users one by one
    /// (None: it does not). Paused: the deadline passed, and the read resumes in the next invocation.
    async fn reread_whole(
        &self,
        _ctx: &ExtractCtx,
        _changes: &[Change],
        _state: &mut TypeState,
    ) -> Option<Result<Stop, ExtractError>> {
        None
    }
    /// Whether another type's read produces this type's records in this sync.
    fn produced_elsewhere(&self, _ctx: &ExtractCtx) -> bool {
        false
    }
}

/// Runs a `PerUser` source: a full read while there is no watermark (first sync, or INITIAL), else the
/// audit-driven re-read since the watermark. The watermark becomes the sync start once the walk ends.
pub struct UserScoped<T>(pub T);

#[async_trait::async_trait]
impl<T: PerUser> Extractor for UserScoped<T> {
    fn record_type(&self) -> &'static str {
        self.0.record_type()
    }

    async fn run(&self, ctx: &ExtractCtx, state: &mut TypeState) -> Result<Stop, ExtractError> {
        if self.0.produced_elsewhere(ctx) {
            tracing::info!(
                record_type = self.record_type(),
                "records come with the registration report's read (counted in the statistics, not here)"
            );
            // Should a later sync read per user again, it starts with a full read.
            state.watermark = None;
            state.next_link = None;
            return Ok(Stop::Finished);
        }
        let Some(since) = state.watermark else { return self.full_read(ctx, state).await };
        if state.next_link.is_none() {
            if let Some(stop) = self.shared_read(ctx, since, state).await? {
                return Ok(stop);
            }
        }
        self.own_read(ctx, since, state).await
    }
}

impl<T: PerUser> UserScoped<T> {
    /// The initial read: every page of the full source; the watermark is set once it ends.
    async fn full_read(&self, ctx: &ExtractCtx, state: &mut TypeState) -> Result<Stop, ExtractError> {
        let first = self.0.full_path();
        let mut walk = PageWalk::resume(state, first);
        loop {
            let page = match walk.fetch(ctx).await {
                Ok(Step::Page(page)) => page,
                Ok(Step::Paused) => return Ok(Stop::Paused),
                Err(GraphError::DeltaExpired(why)) if walk.restart(state, first, &why, self.record_type()) => continue,
                Err(e) => return Err(e.into()),
            };
            self.0.full_page(ctx, page.items(), state).await?;
            state.population = Some(state.items);
            if !walk.advance(state, page.next_link) {
                state.watermark = Some(ctx.sync_time);
                return Ok(Stop::Finished);
            }
        }
    }

    /// An incremental sync that reads its audit window itself, a part at a time: the changes of up to
    /// `PART_PAGES` audit pages are merged and re-read together, so that a user named on several pages, or a
    /// re-read of the whole report, is not repeated page after page. The saved cursor stays on the part's
    /// first page until the part's re-read ends: a paused run collects the same part again and goes on
    /// from where its re-read stopped (`reread_after`, `reread_link`).
    async fn own_read(
        &self,
        ctx: &ExtractCtx,
        since: DateTime<Utc>,
        state: &mut TypeState,
    ) -> Result<Stop, ExtractError> {
        let first = audit_url(since);
        let mut walk = PageWalk::resume(state, &first);
        loop {
            let mut noted = Vec::new();
            let mut pages = 0;
            let rest = loop {
                let page = match walk.fetch(ctx).await {
                    Ok(Step::Page(page)) => page,
                    Ok(Step::Paused) => return Ok(Stop::Paused),
                    Err(GraphError::DeltaExpired(why)) if walk.restart(state, &first, &why, self.record_type()) => {
                        // The window is read again from its start: a paused re-read's place belonged to another part.
                        (noted, pages) = (Vec::new(), 0);
                        (state.reread_after, state.reread_link) = (None, None);
                        continue;
                    }
                    Err(e) => return Err(e.into()),
                };
                noted.extend(changes(page.items(), self.0.triggers()));
                pages += 1;
                match page.next_link {
                    Some(next) if pages < PART_PAGES => walk.follow(next),
                    rest => break rest,
                }
            };
            let todo = merge(noted);
            if !todo.is_empty() {
                tracing::info!(
                    record_type = self.record_type(),
                    users = todo.len(),
                    audit_pages = pages,
                    "re-reading users whose security info changed"
                );
                if self.reread_in_steps(ctx, &todo, state).await? == Stop::Paused {
                    return Ok(Stop::Paused);
                }
            }
            if !walk.advance(state, rest) {
                state.watermark = Some(ctx.sync_time);
                return Ok(Stop::Finished);
            }
        }
    }

    /// Re-reads the changed users a step at a time, in user id order, from where a paused invocation
    /// stopped (`reread_after`); between steps it pauses once the deadline has passed, so a change set of
    /// any size (thousands of report reads on a large tenant) spans invocations instead of running past the
    /// hard timeout. Each invocation finishes at least one step.
    async fn reread_in_steps(
        &self,
        ctx: &ExtractCtx,
        todo: &[Change],
        state: &mut TypeState,
    ) -> Result<Stop, ExtractError> {
        let after = state.reread_after.take();
        if let Some(whole) = self.0.reread_whole(ctx, todo, state).await {
            return whole;
        }
        // `todo` is in user id order (`security_info::merge`): the users up to `after` are done.
        let start = todo.partition_point(|c| after.as_deref().is_some_and(|a| c.user_id.as_str() <= a));
        for (i, step) in todo[start..].chunks(REREAD_STEP).enumerate() {
            if i > 0 && ctx.should_pause() {
                return Ok(Stop::Paused);
            }
            self.0.reread(ctx, step, state).await?;
            state.reread_after = step.last().map(|c| c.user_id.clone());
        }
        state.reread_after = None;
        Ok(Stop::Finished)
    }

    /// An incremental sync whose window the audit-log extractor reads anyway: take the changes from its
    /// read (`audit_feed`) instead of reading the same events again. None: read them yourself.
    async fn shared_read(
        &self,
        ctx: &ExtractCtx,
        since: DateTime<Utc>,
        state: &mut TypeState,
    ) -> Result<Option<Stop>, ExtractError> {
        let from = since - OVERLAP;
        if !ctx.audit_feed.covers(from) {
            return Ok(None);
        }
        let todo = tokio::select! {
            todo = ctx.audit_feed.changes_since(from, self.0.triggers()) => todo,
            _ = ctx.stop.cancelled() => return Ok(Some(Stop::Paused)),
        };
        let Some(todo) = todo else { return Ok(None) };
        if !todo.is_empty() {
            tracing::info!(
                record_type = self.record_type(),
                users = todo.len(),
                "re-reading users whose security info changed (shared audit read)"
            );
            if self.reread_in_steps(ctx, &todo, state).await? == Stop::Paused {
                return Ok(Some(Stop::Paused));
            }
        }
        state.watermark = Some(ctx.sync_time);
        Ok(Some(Stop::Finished))
    }
}

fn method_label(kind: &str, m: &Json) -> String {
    let named = m.field("displayName").and_then(Json::as_str).filter(|s| !s.is_empty());
    match kind {
        "passwordAuthenticationMethod" => "Password".into(),
        "phoneAuthenticationMethod" => {
            format!("Phone ({})", m.field("phoneType").and_then(Json::as_str).unwrap_or("unknown type"))
        }
        "emailAuthenticationMethod" => "Email".into(),
        "softwareOathAuthenticationMethod" => "Software OATH token".into(),
        "temporaryAccessPassAuthenticationMethod" => "Temporary Access Pass".into(),
        "fido2AuthenticationMethod" => named.map_or("FIDO2 security key".into(), |n| format!("FIDO2 key {n}")),
        "microsoftAuthenticatorAuthenticationMethod" => {
            named.map_or("Microsoft Authenticator".into(), |n| format!("Microsoft Authenticator on {n}"))
        }
        "windowsHelloForBusinessAuthenticationMethod" => {
            named.map_or("Windows Hello for Business".into(), |n| format!("Windows Hello on {n}"))
        }
        other => named.map_or_else(|| other.to_string(), str::to_string),
    }
}

/// One method of one user → its record `<userId>_<methodId>` (no secret is ever copied: only declared
/// fields are read, and no password or pass value is among them; phone titles carry no number).
pub fn normalize_method(user_id: &str, upn: Option<&str>, m: &Json, sync_time: DateTime<Utc>) -> Option<Value> {
    let rt: &RecordType = &schema::AUTHENTICATION_METHODS;
    let method_id = id_of(m)?;
    let kind = odata_type(m).unwrap_or_default();
    let mut data: Map<String, Value> = rt.copy_props(m);
    data.insert("user_id".into(), Value::String(user_id.to_string()));
    data.insert("user_principal_name".into(), upn.map_or(Value::Null, |u| Value::String(u.to_string())));
    data.insert("method_id".into(), Value::String(method_id.to_string()));
    let open = Kind::Enum { values: schema::METHOD_TYPES, open: true };
    data.insert("method_type".into(), coerce(open, Some(&Json::from(kind.as_str()))));
    let label = method_label(&kind, m);
    let title = match upn {
        Some(u) => format!("{label} · {u}"),
        None => label,
    };
    data.insert("display_name".into(), Value::String(title));
    live(&mut data);
    Some(record(&format!("{user_id}_{method_id}"), parse_ts(m.field("createdDateTime")), sync_time, data))
}

/// A registration report row → its record (id = the user id).
pub fn normalize_registration(row: &Json, sync_time: DateTime<Utc>) -> Option<Line> {
    let id = id_of(row)?;
    let (created_date, modified_date) = record_dates(None, sync_time);
    let mut w = LineWriter::with_dates(id, created_date, modified_date);
    w.props(&schema::USER_REGISTRATION_DETAILS, row);
    w.str("user_id", Some(id));
    Some(w.live())
}

/// One `methodsRegistered` name of a report row → its method record `<userId>_<name>` (type and title from
/// the schema's vocabulary; an unknown name keeps its own name).
pub fn normalize_registered(row: &Json, name: &str, sync_time: DateTime<Utc>) -> Option<Line> {
    let user_id = id_of(row)?;
    let upn = row.field("userPrincipalName").and_then(Json::as_str);
    let (kind, label) = schema::REGISTERED_METHODS
        .iter()
        .find(|(n, _, _)| *n == name)
        .map_or((name, name), |(_, kind, label)| (*kind, *label));
    let (created_date, modified_date) = record_dates(None, sync_time);
    let mut w = LineWriter::with_dates(&format!("{user_id}_{name}"), created_date, modified_date);
    w.str("user_id", Some(user_id));
    w.str("user_principal_name", upn);
    w.str("method_id", Some(name));
    let open = Kind::Enum { values: schema::METHOD_TYPES, open: true };
    w.kind("method_type", open, Some(&Json::from(kind)));
    let title = match upn {
        Some(u) => format!("{label} · {u}"),
        None => label.to_string(),
    };
    w.str("display_name", Some(&title));
    Some(w.live())
}

/// The methods of each user. A re-read sends the user's current methods (dated at the sync: a per-user
/// snapshot, docs/contracts.md) and a deletion for every method id the audit events named that is gone; a
/// user left with no method at all gets the deletion of the password method, which dates the empty read.
pub struct Methods;

#[async_trait::async_trait]
impl PerUser for Methods {
    fn record_type(&self) -> &'static str {
        "authentication_methods"
    }

    fn full_path(&self) -> &'static str {
        USERS_PATH
    }

    fn triggers(&self) -> Triggers {
        Triggers::Methods
    }

    fn produced_elsewhere(&self, ctx: &ExtractCtx) -> bool {
        ctx.methods.from_report()
    }

    async fn full_page(&self, ctx: &ExtractCtx, users: &[Json<'_>], state: &mut TypeState) -> Result<(), ExtractError> {
        let users: Vec<(&str, Option<&str>)> = users
            .iter()
            .filter_map(|u| Some((id_of(u)?, u.field("userPrincipalName").and_then(Json::as_str))))
            .collect();
        let urls: Vec<String> = users.iter().map(|(id, _)| format!("/users/{id}/authentication/methods")).collect();
        let results = ctx.graph.batch_get(&urls).await;
        for ((user_id, upn), result) in users.into_iter().zip(results) {
            let body = match result {
                Ok(body) => body,
                Err(GraphError::NotFound(_)) => continue, // deleted since the list was read
                Err(e) => return Err(e.into()),
            };
            for m in ctx.graph.all_items(&body).await? {
                if let Some(r) = normalize_method(user_id, upn, &view(&m), ctx.sync_time) {
                    ctx.sink.push(self.record_type(), r).await?;
                    state.items += 1;
                }
            }
        }
        Ok(())
    }

    async fn reread(&self, ctx: &ExtractCtx, changes: &[Change], state: &mut TypeState) -> Result<(), ExtractError> {
        let mut urls = Vec::with_capacity(changes.len() * 2);
        for c in changes {
            urls.push(format!("/users/{}/authentication/methods", c.user_id));
            urls.push(format!("/users/{}?$select=id,userPrincipalName", c.user_id));
        }
        let mut results = ctx.graph.batch_get(&urls).await.into_iter();
        for c in changes {
            let (Some(methods), Some(user)) = (results.next(), results.next()) else { break };
            let upn = match user {
                Ok(u) => u.get("userPrincipalName").and_then(Value::as_str).map(str::to_string),
                Err(GraphError::NotFound(_)) => continue, // the user is gone
                Err(GraphError::Permission { .. }) => c.user_principal_name.clone(),
                Err(e) => return Err(e.into()),
            };
            let body = match methods {
                Ok(body) => body,
                Err(GraphError::NotFound(_)) => continue,
                Err(e) => return Err(e.into()),
            };
            let current = ctx.graph.all_items(&body).await?;
            let current: Vec<Json> = current.iter().map(view).collect();
            let ids: HashSet<&str> = current.iter().filter_map(id_of).collect();
            for m in &current {
                if let Some(r) = normalize_method(&c.user_id, upn.as_deref(), m, ctx.sync_time) {
                    ctx.sink.push(self.record_type(), r).await?;
                    state.items += 1;
                }
            }
            let mut gone: Vec<&str> = c.method_ids.iter().map(String::as_str).filter(|m| !ids.contains(m)).collect();
            if current.is_empty() && !gone.contains(&PASSWORD_METHOD_ID) {
                // Nothing else would date this read: the user's older records would stay their latest
                // read. No method means no password method either; its deletion dates the (empty) read.
                gone.push(PASSWORD_METHOD_ID);
            }
            for gone in gone {
                ctx.sink.push(self.record_type(), deletion(&format!("{}_{gone}", c.user_id), ctx.sync_time)).await?;
                state.items += 1;
            }
        }
        Ok(())
    }
}

/// The registration report: paged on a full read; afterwards one row per named user (`$batch`), or the whole
/// report again when that takes fewer requests (more users named than it has pages). Each row also gives
/// the user's authentication methods when they come from the report (`MethodsSource`).
pub struct Registrations;

impl Registrations {
    /// Sends one row's records; for a user named by the audit events, also the deletion of every method the
    /// report no longer lists (the methods' previous names are not kept: the known names stand in for them).
    async fn emit(
        &self,
        ctx: &ExtractCtx,
        row: &Json<'_>,
        named: bool,
        state: &mut TypeState,
    ) -> Result<(), ExtractError> {
        let Some(r) = normalize_registration(row, ctx.sync_time) else { return Ok(()) };
        ctx.sink.push(self.record_type(), r).await?;
        state.items += 1;
        if !ctx.methods.from_report() {
            return Ok(());
        }
        let names: Vec<&str> = row
            .field("methodsRegistered")
            .and_then(Json::as_array)
            .map(|a| a.iter().filter_map(Json::as_str).collect())
            .unwrap_or_default();
        let mut pushed = 0;
        for name in &names {
            if let Some(r) = normalize_registered(row, name, ctx.sync_time) {
                ctx.sink.push(METHODS_TYPE, r).await?;
                pushed += 1;
            }
        }
        if let (true, Some(user_id)) = (named, id_of(row)) {
            for (gone, _, _) in schema::REGISTERED_METHODS.iter().filter(|(n, _, _)| !names.contains(n)) {
                ctx.sink.push(METHODS_TYPE, deletion(&format!("{user_id}_{gone}"), ctx.sync_time)).await?;
                pushed += 1;
            }
        }
        ctx.methods.pushed.fetch_add(pushed, Ordering::Relaxed);
        Ok(())
    }

    /// The whole report again, for the named users' rows (the others have not changed), from where a
    /// paused read stopped (`reread_link`); each invocation reads at least one page.
    async fn reread_all(
        &self,
        ctx: &ExtractCtx,
        named: &HashSet<&str>,
        state: &mut TypeState,
    ) -> Result<Stop, ExtractError> {
        let (mut link, mut is_link) = match state.reread_link.take() {
            Some(link) => (Some(link), true),
            None => (Some(REGISTRATION_PATH.to_string()), false),
        };
        let mut first = true;
        while let Some(next) = link {
            if !first && ctx.should_pause() {
                state.reread_link = Some(next);
                return Ok(Stop::Paused);
            }
            first = false;
            let page = ctx.graph.get_page(&next, is_link).await?;
            is_link = true;
            for row in page.items().iter().filter(|row| id_of(row).is_some_and(|id| named.contains(id))) {
                self.emit(ctx, row, true, state).await?;
            }
            link = page.next_link;
        }
        Ok(Stop::Finished)
    }
}

const METHODS_TYPE: &str = "authentication_methods";

#[async_trait::async_trait]
impl PerUser for Registrations {
    fn record_type(&self) -> &'static str {
        "user_registration_details"
    }

    fn full_path(&self) -> &'static str {
        REGISTRATION_PATH
    }

    fn triggers(&self) -> Triggers {
        Triggers::MethodsAndRoles
    }

    async fn full_page(&self, ctx: &ExtractCtx, rows: &[Json<'_>], state: &mut TypeState) -> Result<(), ExtractError> {
        for row in rows {
            self.emit(ctx, row, false, state).await?;
        }
        Ok(())
    }

    async fn reread_whole(
        &self,
        ctx: &ExtractCtx,
        changes: &[Change],
        state: &mut TypeState,
    ) -> Option<Result<Stop, ExtractError>> {
        let named: HashSet<&str> = changes.iter().map(|c| c.user_id.as_str()).collect();
        let pages = state.population.map(|rows| rows.div_ceil(REPORT_PAGE).max(1));
        if state.reread_link.is_none() && pages.is_none_or(|pages| named.len() as u64 <= pages) {
            return None;
        }
        tracing::info!(users = named.len(), pages, "more users changed than the report has pages: reading it all");
        Some(self.reread_all(ctx, &named, state).await)
    }

    async fn reread(&self, ctx: &ExtractCtx, changes: &[Change], state: &mut TypeState) -> Result<(), ExtractError> {
        let urls: Vec<String> = changes
            .iter()
            .map(|c| format!("/reports/authenticationMethods/userRegistrationDetails/{}", c.user_id))
            .collect();
        for result in ctx.graph.batch_get(&urls).await {
            let row = match result {
                Ok(row) => row,
                Err(GraphError::NotFound(_)) => continue,
                Err(e) => return Err(e.into()),
            };
            self.emit(ctx, &view(&row), true, state).await?;
        }
        Ok(())
    }
}

pub fn authentication_methods() -> UserScoped<Methods> {
    UserScoped(Methods)
}

pub fn user_registration_details() -> UserScoped<Registrations> {
    UserScoped(Registrations)
}
