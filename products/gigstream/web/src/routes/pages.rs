//! Server-rendered pages. Each handler does what its API twin does and
//! renders the result; forms come back with every field error named.

use super::api::SearchParams;
use super::common::{action_of, order_for, order_step, read_delivery, store_upload, FormIn, StepInput, GALLERY};
use crate::auth::{self, ClientIp, CsrfToken, CurrentUser, MaybeUser};
use crate::forms::{check_sign_up, GigPageForm, ProfileForm, SignUp};
use crate::middleware::{clear_session_cookie, session_cookie};
use crate::templates::*;
use crate::{AppError, AppResult, AppState};
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use chrono::Utc;
use gigstream_domain::gig::{GigStatus, Tier};
use gigstream_domain::ids::{GigId, OrderId};
use gigstream_domain::order::{Action, Actor, OrderStatus};
use gigstream_store::accounts::{self, NewAccount};
use gigstream_store::search::{self, DELIVERY_DAYS, RATINGS};
use gigstream_store::{gigs, orders, profiles};
use platform_accounts::Via;
use platform_kernel::FieldErrors;
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/search", get(search_page))
        .route("/signup", get(signup_page).post(signup_submit))
        .route("/login", get(login_page).post(login_submit))
        .route("/logout", post(logout))
        .route("/profile", get(profile_page).post(profile_submit))
        .route("/u/{username}", get(user_page))
        .route("/gigs/new", get(new_gig).post(create_gig))
        .route("/gigs/{slug}", get(gig_page))
        .route("/gigs/{slug}/edit", get(edit_gig).post(update_gig))
        .route("/gigs/{slug}/order", post(order_gig))
        .route("/gigs/id/{id}/images", post(upload_image))
        .route("/gigs/id/{id}/status", post(gig_status))
        .route("/orders/{id}", get(order_page))
        .route("/orders/{id}/{action}", post(order_action))
}

pub(super) fn chrome(csrf: &CsrfToken, user: Option<&CurrentUser>) -> Chrome {
    Chrome { csrf: csrf.0.clone(), username: user.map(|u| u.account.username.clone()), q: String::new() }
}

fn field_list(e: &FieldErrors) -> Vec<(String, String)> {
    e.0.iter().map(|f| (f.field.to_string(), f.message.clone())).collect()
}

/// A store refusal that names a field goes back to the form; anything else is an error page.
fn form_errors(e: AppError) -> Result<Vec<(String, String)>, AppError> {
    match e {
        AppError::Validation(f) => Ok(field_list(&f)),
        other => Err(other),
    }
}

async fn home(State(state): State<AppState>, csrf: CsrfToken, MaybeUser(user): MaybeUser) -> AppResult<Response> {
    let cats = gigs::categories(&state.db).await?.into_iter().filter(|c| c.parent.is_none()).map(|c| (c.slug, c.name)).collect();
    let q = search::Query { filters: Default::default(), sort: search::Sort::Newest, cursor: None, limit: 12 };
    let r = search::search(&state.db, &q).await?;
    Ok(Home { chrome: chrome(&csrf, user.as_ref()), categories: cats, cards: r.hits.iter().map(Card::from_hit).collect() }.into_response())
}

fn url_with(p: &SearchParams, key: &str, value: &str) -> String {
    let mut pairs: Vec<(&str, String)> = vec![
        ("q", p.q.clone()),
        ("category", p.category.clone()),
        ("price", p.price.clone()),
        ("delivery", p.delivery.clone()),
        ("rating", p.rating.clone()),
        ("level", p.level.clone()),
        ("sort", p.sort.clone()),
    ];
    for pair in &mut pairs {
        if pair.0 == key {
            pair.1 = if pair.1 == value { String::new() } else { value.to_string() };
        }
    }
    pairs.retain(|(_, v)| !v.is_empty());
    format!("/search?{}", serde_urlencoded::to_string(&pairs).unwrap_or_default())
}

async fn search_page(
    State(state): State<AppState>,
    csrf: CsrfToken,
    MaybeUser(user): MaybeUser,
    Query(p): Query<SearchParams>,
) -> AppResult<Response> {
    let r = search::search(&state.db, &p.query(24)?).await?;
    let link = |key: &str, value: String, label: String, count: i64, current: &str| FacetLink {
        href: url_with(&p, key, &value),
        active: current == value,
        label,
        count,
    };
    let f = &r.facets;
    let groups = vec![
        FacetGroup {
            name: "Category",
            links: f.category.iter().map(|c| link("category", c.value.clone(), c.label.clone(), c.count, &p.category)).collect(),
        },
        FacetGroup {
            name: "Budget",
            links: f.price.iter().map(|c| link("price", c.value.as_str().into(), c.label.clone(), c.count, &p.price)).collect(),
        },
        FacetGroup {
            name: "Delivery time",
            links: f
                .delivery_days
                .iter()
                .zip(DELIVERY_DAYS)
                .map(|(c, d)| link("delivery", d.to_string(), c.label.clone(), c.count, &p.delivery))
                .collect(),
        },
        FacetGroup {
            name: "Seller rating",
            links: f.rating.iter().zip(RATINGS).map(|(c, v)| link("rating", v.to_string(), c.label.clone(), c.count, &p.rating)).collect(),
        },
        FacetGroup {
            name: "Seller level",
            links: f.level.iter().map(|c| link("level", c.value.as_str().into(), c.label.clone(), c.count, &p.level)).collect(),
        },
    ];
    let sorts = [("relevance", "Best match"), ("rating", "Rating"), ("price", "Price"), ("newest", "Newest")]
        .iter()
        .map(|(v, l)| FacetLink {
            href: url_with(&SearchParams { sort: String::new(), ..clone_params(&p) }, "sort", v),
            active: p.sort == *v || (p.sort.is_empty() && *v == "relevance"),
            label: (*l).into(),
            count: 0,
        })
        .collect();
    let next = r.next_cursor.as_ref().map(|c| {
        let mut api = url_with(&p, "", "").replacen("/search?", "/api/v1/search?", 1);
        if r.corrected {
            api = url_with(&SearchParams { q: r.suggestion.clone().unwrap_or_default(), ..clone_params(&p) }, "", "").replacen(
                "/search?",
                "/api/v1/search?",
                1,
            );
        }
        format!("{api}&{}", serde_urlencoded::to_string([("cursor", c)]).unwrap_or_default())
    });
    let mut ch = chrome(&csrf, user.as_ref());
    ch.q = p.q.clone();
    Ok(SearchPage {
        chrome: ch,
        q: p.q.clone(),
        total: r.total,
        cards: r.hits.iter().map(Card::from_hit).collect(),
        groups,
        sorts,
        suggestion: r.suggestion.clone(),
        corrected: r.corrected,
        approximate: r.approximate,
        next,
        facets: r.facets,
    }
    .into_response())
}

fn clone_params(p: &SearchParams) -> SearchParams {
    SearchParams {
        q: p.q.clone(),
        category: p.category.clone(),
        price: p.price.clone(),
        delivery: p.delivery.clone(),
        rating: p.rating.clone(),
        level: p.level.clone(),
        sort: p.sort.clone(),
        cursor: String::new(),
    }
}

async fn signup_page(State(state): State<AppState>, csrf: CsrfToken) -> Response {
    AuthPage {
        google: state.google.is_some(),
        chrome: chrome(&csrf, None),
        signup: true,
        next: String::new(),
        login: String::new(),
        form: SignUp::default(),
        errors: vec![],
    }
    .into_response()
}

fn with_cookie(to: &str, cookie: String) -> Response {
    let mut resp = Redirect::to(to).into_response();
    if let Ok(v) = cookie.parse() {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp
}

fn user_agent(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok())
}

async fn signup_submit(
    State(state): State<AppState>,
    csrf: CsrfToken,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    FormIn(form): FormIn<SignUp>,
) -> AppResult<Response> {
    state.limits.check_auth(&ip, &form.email)?;
    let page = |errors| {
        AuthPage {
            google: state.google.is_some(),
            chrome: chrome(&csrf, None),
            signup: true,
            next: String::new(),
            login: String::new(),
            form: SignUp { password: String::new(), ..form.clone() },
            errors,
        }
        .into_response()
    };
    let (email, username, name) = match check_sign_up(&form) {
        Ok(v) => v,
        Err(e) => return Ok(page(field_list(&e))),
    };
    let hash = auth::hash_password(form.password.clone(), state.config.fast_password_hashing).await?;
    let new = NewAccount { email: &email, username: &username, display_name: &name, password_hash: &hash, is_admin: false };
    let account = match accounts::create(&state.db, &new, Utc::now()).await {
        Ok(a) => a,
        Err(e) => return Ok(page(form_errors(e.into())?)),
    };
    let token = auth::start_session(&state, account.id, Via::Cookie, &ip, user_agent(&headers)).await?;
    Ok(with_cookie("/dashboard", session_cookie(&token, state.config.secure_cookies)))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct LoginForm {
    login: String,
    password: String,
    next: String,
}

async fn login_page(State(state): State<AppState>, csrf: CsrfToken, Query(q): Query<LoginForm>) -> Response {
    AuthPage {
        google: state.google.is_some(),
        chrome: chrome(&csrf, None),
        signup: false,
        next: q.next,
        login: String::new(),
        form: SignUp::default(),
        errors: vec![],
    }
    .into_response()
}

async fn login_submit(
    State(state): State<AppState>,
    csrf: CsrfToken,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    FormIn(form): FormIn<LoginForm>,
) -> AppResult<Response> {
    state.limits.check_auth(&ip, &form.login)?;
    match auth::verify_login(&state, &form.login, &form.password, &ip).await {
        Ok(account) => {
            let token = auth::start_session(&state, account.id, Via::Cookie, &ip, user_agent(&headers)).await?;
            // Only a path on this site, never another origin.
            let next = if form.next.starts_with('/') && !form.next.starts_with("//") && !form.next.contains('\\') {
                form.next.as_str()
            } else {
                "/dashboard"
            };
            Ok(with_cookie(next, session_cookie(&token, state.config.secure_cookies)))
        }
        Err(AppError::LoginFailed) => Ok(AuthPage {
            google: state.google.is_some(),
            chrome: chrome(&csrf, None),
            signup: false,
            next: form.next.clone(),
            login: form.login.clone(),
            form: SignUp::default(),
            errors: vec![(String::new(), AppError::LoginFailed.to_string())],
        }
        .into_response()),
        // A suspended or banned account: why, in plain words.
        Err(AppError::Validation(e)) => {
            let page = AuthPage {
                google: state.google.is_some(),
                chrome: chrome(&csrf, None),
                signup: false,
                next: form.next.clone(),
                login: form.login.clone(),
                form: SignUp::default(),
                errors: e.0.iter().map(|f| (String::new(), f.message.clone())).collect(),
            };
            Ok((axum::http::StatusCode::FORBIDDEN, page).into_response())
        }
        Err(e) => Err(e),
    }
}

async fn logout(State(state): State<AppState>, MaybeUser(user): MaybeUser) -> AppResult<Response> {
    if let Some(u) = user {
        accounts::sessions().revoke(&state.db, &u.session.token, Utc::now()).await?;
    }
    Ok(with_cookie("/", clear_session_cookie(state.config.secure_cookies)))
}

pub(super) fn order_line(o: &orders::Order) -> OrderLine {
    OrderLine {
        id: o.id.to_string(),
        title: o.gig_title.clone(),
        status: o.status.label(),
        total: money(o.total_minor, o.currency),
        late: o.is_late(Utc::now()),
    }
}

async fn profile_page(State(state): State<AppState>, csrf: CsrfToken, user: CurrentUser) -> AppResult<Response> {
    let p = profiles::get(&state.db, user.account.id).await?;
    let form = ProfileForm {
        headline: p.headline,
        bio: p.bio,
        skills: p.skills.0.join(", "),
        languages: p.languages.0.join(", "),
        response_hours: p.response_hours,
        ..ProfileForm::default()
    };
    Ok(ProfileFormPage { chrome: chrome(&csrf, Some(&user)), form, errors: vec![] }.into_response())
}

async fn profile_submit(
    State(state): State<AppState>,
    csrf: CsrfToken,
    user: CurrentUser,
    FormIn(mut form): FormIn<ProfileForm>,
) -> AppResult<Response> {
    let existing = profiles::get(&state.db, user.account.id).await?;
    form.portfolio = existing.portfolio.0;
    match form.clone().check() {
        Ok(p) => {
            profiles::save(&state.db, user.account.id, &p, Utc::now()).await?;
            Ok(Redirect::to(&format!("/u/{}", user.account.username)).into_response())
        }
        Err(e) => Ok(ProfileFormPage { chrome: chrome(&csrf, Some(&user)), form, errors: field_list(&e) }.into_response()),
    }
}

async fn user_page(
    State(state): State<AppState>,
    csrf: CsrfToken,
    MaybeUser(viewer): MaybeUser,
    Path(username): Path<String>,
) -> AppResult<Response> {
    let account = accounts::by_username(&state.db, &username).await?;
    let p = profiles::get(&state.db, account.id).await?;
    let stats = profiles::stats(&state.db, account.id).await?;
    let mut cards = vec![];
    for g in gigs::by_seller(&state.db, account.id, false).await? {
        let cover = gigs::cover(&state.db, g.id).await?;
        cards.push(Card::from_gig(&g, &account.display_name, &account.username, cover));
    }
    Ok(UserPage {
        is_me: viewer.as_ref().is_some_and(|v| v.account.id == account.id),
        chrome: chrome(&csrf, viewer.as_ref()),
        username: account.username,
        name: account.display_name,
        headline: p.headline,
        bio: p.bio,
        skills: p.skills.0,
        languages: p.languages.0,
        portfolio: p.portfolio.0,
        response_hours: p.response_hours,
        member_since: account.created_at.format("%b %Y").to_string(),
        stats,
        cards,
        reviews: super::reviews::summary(&state, account.id, None).await?,
    }
    .into_response())
}

async fn category_options(state: &AppState) -> AppResult<Vec<(String, String, bool)>> {
    Ok(gigs::categories(&state.db).await?.into_iter().map(|c| (c.slug, c.name, c.parent.is_some())).collect())
}

fn blank_gig_form() -> GigPageForm {
    GigPageForm { basic_name: "Basic".into(), basic_days: "3".into(), basic_revisions: "1".into(), ..GigPageForm::default() }
}

async fn new_gig(State(state): State<AppState>, csrf: CsrfToken, user: CurrentUser) -> AppResult<Response> {
    let categories = category_options(&state).await?;
    Ok(GigFormPage {
        chrome: chrome(&csrf, Some(&user)),
        action: "/gigs/new".into(),
        heading: "Create a gig",
        form: blank_gig_form(),
        categories,
        errors: vec![],
        gig_id: None,
        images: vec![],
    }
    .into_response())
}

async fn create_gig(
    State(state): State<AppState>,
    csrf: CsrfToken,
    user: CurrentUser,
    FormIn(form): FormIn<GigPageForm>,
) -> AppResult<Response> {
    let result = match form.clone().into_gig_form().check(state.config.currency) {
        Ok(input) => gigs::create(&state.db, user.account.id, &input, Utc::now()).await.map_err(AppError::from),
        Err(e) => Err(AppError::Validation(e)),
    };
    match result {
        Ok(g) => Ok(Redirect::to(&format!("/gigs/{}/edit", g.slug)).into_response()),
        Err(e) => {
            let errors = form_errors(e)?;
            let categories = category_options(&state).await?;
            Ok(GigFormPage {
                chrome: chrome(&csrf, Some(&user)),
                action: "/gigs/new".into(),
                heading: "Create a gig",
                form,
                categories,
                errors,
                gig_id: None,
                images: vec![],
            }
            .into_response())
        }
    }
}

async fn own_gig(state: &AppState, user: &CurrentUser, slug: &str) -> AppResult<gigs::GigPage> {
    let page = gigs::page(&state.db, slug, Some(user.account.id)).await?;
    if page.gig.seller_id != user.account.id {
        return Err(AppError::NotFound);
    }
    Ok(page)
}

fn form_of(page: &gigs::GigPage) -> GigPageForm {
    let g = &page.gig;
    let mut f = GigPageForm {
        title: g.title.clone(),
        category: g.category.clone(),
        subcategory: g.subcategory.clone().unwrap_or_default(),
        tags: g.tags.0.join(", "),
        description: g.description_html.clone(),
        ..GigPageForm::default()
    };
    for p in &page.packages {
        let price = gigstream_domain::Money::new(p.price_minor, g.currency).decimal();
        let (name, pr, days, rev, items) =
            (p.name.clone(), price, p.delivery_days.to_string(), p.revisions.to_string(), p.items.0.join("\n"));
        match p.tier {
            Tier::Basic => (f.basic_name, f.basic_price, f.basic_days, f.basic_revisions, f.basic_items) = (name, pr, days, rev, items),
            Tier::Standard => {
                (f.standard_name, f.standard_price, f.standard_days, f.standard_revisions, f.standard_items) = (name, pr, days, rev, items)
            }
            Tier::Premium => {
                (f.premium_name, f.premium_price, f.premium_days, f.premium_revisions, f.premium_items) = (name, pr, days, rev, items)
            }
        }
    }
    let faq = &g.faq.0;
    if let Some(q) = faq.first() {
        (f.faq_q1, f.faq_a1) = (q.question.clone(), q.answer.clone());
    }
    if let Some(q) = faq.get(1) {
        (f.faq_q2, f.faq_a2) = (q.question.clone(), q.answer.clone());
    }
    let reqs: Vec<String> = g.requirements.0.iter().map(|r| r.question.clone()).collect();
    f.req_1 = reqs.first().cloned().unwrap_or_default();
    f.req_2 = reqs.get(1).cloned().unwrap_or_default();
    f.req_3 = reqs.get(2).cloned().unwrap_or_default();
    f
}

async fn edit_gig(State(state): State<AppState>, csrf: CsrfToken, user: CurrentUser, Path(slug): Path<String>) -> AppResult<Response> {
    let page = own_gig(&state, &user, &slug).await?;
    let categories = category_options(&state).await?;
    Ok(GigFormPage {
        chrome: chrome(&csrf, Some(&user)),
        action: format!("/gigs/{slug}/edit"),
        heading: "Edit gig",
        form: form_of(&page),
        categories,
        errors: vec![],
        gig_id: Some(page.gig.id.to_string()),
        images: page.images.iter().map(|i| i.media_key.clone()).collect(),
    }
    .into_response())
}

async fn update_gig(
    State(state): State<AppState>,
    csrf: CsrfToken,
    user: CurrentUser,
    Path(slug): Path<String>,
    FormIn(form): FormIn<GigPageForm>,
) -> AppResult<Response> {
    let page = own_gig(&state, &user, &slug).await?;
    let result = match form.clone().into_gig_form().check(state.config.currency) {
        Ok(input) => gigs::update(&state.db, page.gig.id, user.account.id, &input, Utc::now()).await.map_err(AppError::from),
        Err(e) => Err(AppError::Validation(e)),
    };
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/gigs/{slug}")).into_response()),
        Err(e) => {
            let errors = form_errors(e)?;
            let categories = category_options(&state).await?;
            Ok(GigFormPage {
                chrome: chrome(&csrf, Some(&user)),
                action: format!("/gigs/{slug}/edit"),
                heading: "Edit gig",
                form,
                categories,
                errors,
                gig_id: Some(page.gig.id.to_string()),
                images: page.images.iter().map(|i| i.media_key.clone()).collect(),
            }
            .into_response())
        }
    }
}

async fn upload_image(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    mut form: Multipart,
) -> AppResult<Response> {
    let id: GigId = id.parse().map_err(|_| AppError::NotFound)?;
    let gig = gigs::get(&state.db, id).await?;
    if gig.seller_id != user.account.id {
        return Err(AppError::NotFound);
    }
    while let Some(field) = form.next_field().await.map_err(AppError::rejected)? {
        if field.name() == Some("image") {
            let declared = field.content_type().map(str::to_string);
            let name = super::common::file_name(field.file_name(), "image");
            let bytes = field.bytes().await.map_err(AppError::rejected)?.to_vec();
            let (key, mime) = store_upload(&state, &user, "gigs", (bytes, &name), declared.as_deref(), &GALLERY).await?;
            if let Err(e) = gigs::add_image(&state.db, id, user.account.id, &key, mime, Utc::now()).await {
                let _ = state.media.delete(&platform_media::MediaKey::parse(&key).expect("our key")).await;
                return Err(e.into());
            }
        }
    }
    Ok(Redirect::to(&format!("/gigs/{}/edit", gig.slug)).into_response())
}

#[derive(Deserialize)]
struct StatusForm {
    status: String,
}

async fn gig_status(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    FormIn(f): FormIn<StatusForm>,
) -> AppResult<Response> {
    let id: GigId = id.parse().map_err(|_| AppError::NotFound)?;
    let status = match f.status.as_str() {
        "pause" => GigStatus::Paused,
        "resume" => GigStatus::Active,
        "delete" => GigStatus::Deleted,
        _ => return Err(AppError::field("status", "Unknown status")),
    };
    gigs::set_status(&state.db, id, user.account.id, status, Utc::now()).await?;
    Ok(Redirect::to("/dashboard").into_response())
}

async fn gig_page(
    State(state): State<AppState>,
    csrf: CsrfToken,
    MaybeUser(user): MaybeUser,
    Path(slug): Path<String>,
) -> AppResult<Response> {
    let page = gigs::page(&state.db, &slug, user.as_ref().map(|u| u.account.id)).await?;
    let g = &page.gig;
    let packages = page
        .packages
        .iter()
        .map(|p| PackageView {
            tier: p.tier.to_string(),
            label: p.tier.label(),
            name: p.name.clone(),
            price: money(p.price_minor, g.currency),
            days: p.delivery_days,
            revisions: p.revisions,
            items: p.items.0.clone(),
        })
        .collect();
    Ok(GigView {
        is_owner: user.as_ref().is_some_and(|u| u.account.id == g.seller_id),
        chrome: chrome(&csrf, user.as_ref()),
        slug: g.slug.clone(),
        title: g.title.clone(),
        paused: g.status == GigStatus::Paused,
        seller: page.seller_name.clone(),
        seller_username: page.seller_username.clone(),
        level: g.seller_level.label(),
        category: page.subcategory_name.clone().unwrap_or_else(|| page.category_name.clone()),
        tags: g.tags.0.clone(),
        description_html: g.description_html.clone(),
        packages,
        images: page.images.iter().map(|i| i.media_key.clone()).collect(),
        faq: g.faq.0.iter().map(|f| (f.question.clone(), f.answer.clone())).collect(),
        reviews: super::reviews::summary(&state, g.seller_id, Some(g.id)).await?,
        video: super::videos::ready_for(&state, g.id).await?,
        favourite: match user.as_ref().filter(|u| u.account.id != g.seller_id) {
            Some(u) => Some(gigstream_store::dashboard::is_favourite(&state.db, u.account.id, g.id).await?),
            None => None,
        },
    }
    .into_response())
}

#[derive(Deserialize)]
struct OrderForm {
    tier: Tier,
}

async fn order_gig(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(slug): Path<String>,
    FormIn(f): FormIn<OrderForm>,
) -> AppResult<Response> {
    let page = gigs::page(&state.db, &slug, None).await?;
    let o =
        orders::place(&state.db, user.account.id, page.gig.id, f.tier, crate::settings::current(&state).await?.fees, Utc::now()).await?;
    // The order page asks how to pay.
    Ok(Redirect::to(&format!("/orders/{}#pay", o.id)).into_response())
}

fn status_actions(status: OrderStatus, actor: Actor, o: &orders::Order) -> Vec<(&'static str, &'static str, bool, bool)> {
    let ctx = o.ctx();
    let mut out = vec![];
    let can = |a: Action| gigstream_domain::order::transition(status, a, actor, ctx).is_ok();
    if can(Action::Accept) {
        out.push(("accept", "Accept delivery and release payment", false, true));
    }
    if can(Action::RequestRevision) {
        out.push(("revision", "Request a revision", true, false));
    }
    if can(Action::RequestCancel) {
        out.push(("cancel-request", "Ask to cancel", true, false));
    }
    if can(Action::Cancel) {
        out.push(("cancel", "Cancel the order", false, true));
    }
    if can(Action::Dispute) {
        out.push(("dispute", "Open a dispute", true, true));
    }
    out
}

async fn order_page(State(state): State<AppState>, csrf: CsrfToken, user: CurrentUser, Path(id): Path<String>) -> AppResult<Response> {
    let id: OrderId = id.parse().map_err(|_| AppError::NotFound)?;
    let (o, actor) = order_for(&state, &user, id).await?;
    let timeline = orders::timeline(&state.db, id).await?;
    let deliveries = orders::deliveries(&state.db, id).await?;
    let fmt = |t: chrono::DateTime<Utc>| t.format("%d %b %Y, %H:%M UTC").to_string();
    let pay_methods = if o.status == OrderStatus::Placed && actor == Actor::Buyer {
        state.payments.methods().into_iter().map(|m| (m.as_str(), m.label())).collect()
    } else {
        vec![]
    };
    Ok(OrderPage {
        chrome: chrome(&csrf, Some(&user)),
        id: o.id.to_string(),
        title: o.gig_title.clone(),
        package: o.package_name.clone(),
        status: o.status.label(),
        status_class: o.status.to_string(),
        you_are: actor.to_string(),
        late: o.is_late(Utc::now()),
        due: o.due_at.map(fmt),
        price: money(o.price_minor, o.currency),
        fee: money(o.buyer_fee_minor, o.currency),
        total: money(o.total_minor, o.currency),
        revisions_left: (o.revisions_allowed - o.revisions_used).max(0),
        questions: o.requirements.0.iter().map(|r| r.question.clone()).collect(),
        answers: o.answers.as_ref().map(|a| a.0.clone()).unwrap_or_default(),
        timeline: timeline
            .iter()
            .map(|e| TimelineLine {
                words: e.words(),
                actor: e.actor.clone(),
                note: e.note.clone(),
                amount: e.amount_minor.map(|a| money(a, o.currency)),
                at: fmt(e.created_at),
            })
            .collect(),
        deliveries: deliveries
            .iter()
            .map(|d| DeliveryView {
                version: d.version,
                message: d.message.clone(),
                at: fmt(d.created_at),
                files: d.files.0.iter().map(|f| (f.key.clone(), f.name.clone())).collect(),
            })
            .collect(),
        actions: status_actions(o.status, actor, &o),
        pay_methods,
        can_submit_requirements: o.status == OrderStatus::Paid && actor == Actor::Buyer,
        can_deliver: matches!(o.status, OrderStatus::InProgress | OrderStatus::RevisionRequested) && actor == Actor::Seller,
        invoices: invoice_links(&state, &o, actor).await?,
    }
    .into_response())
}

/// The order's documents, for its two parties only.
async fn invoice_links(state: &AppState, o: &orders::Order, actor: Actor) -> AppResult<Vec<(String, String)>> {
    if actor == Actor::Admin {
        return Ok(vec![]);
    }
    let docs = gigstream_store::invoices::for_order(&state.db, o.id).await?;
    Ok(docs.into_iter().map(|d| (d.id.to_string(), format!("{} {}", d.kind.title(), d.number))).collect())
}

/// Form fields of an order step; `answers` repeats, one per question.
async fn order_action(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, action)): Path<(String, String)>,
    req: axum::extract::Request,
) -> AppResult<Response> {
    let id: OrderId = id.parse().map_err(|_| AppError::NotFound)?;
    let action = action_of(&action)?;
    let input = if action == Action::Deliver {
        let form = <Multipart as axum::extract::FromRequest<AppState>>::from_request(req, &state).await.map_err(AppError::rejected)?;
        let (message, files) = read_delivery(&state, &user, form).await?;
        StepInput { message, files, ..StepInput::default() }
    } else {
        let bytes = axum::body::to_bytes(req.into_body(), 256 * 1024)
            .await
            .map_err(|_| AppError::PayloadTooLarge("This form is too large".into()))?;
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes).map_err(|e| AppError::BadRequest(e.to_string()))?;
        let mut input = StepInput::default();
        for (k, v) in pairs {
            match k.as_str() {
                "answers" => input.answers.push(v),
                "message" => input.message = v,
                _ => {}
            }
        }
        input
    };
    order_step(&state, &user, id, action, input).await?;
    Ok(Redirect::to(&format!("/orders/{id}")).into_response())
}
