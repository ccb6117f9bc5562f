//! The operator area (sign-in by direct URL only).

use super::public::{LoginForm, LoginPage, NextQuery};
use crate::auth::{ClientIp, CsrfToken, CurrentOperator};
use crate::error::AppResult;
use crate::templates as t;
use crate::AppState;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Form;
use fantooo_domain::AccountKind;

const OPERATOR_LOGIN: LoginPage = LoginPage {
    kind: AccountKind::Operator, title: "Team sign in", subtitle: "Staff workspace.", action: "/op-login",
    login_label: "Work email", login_type: "email", show_signup: false,
};

pub async fn login(csrf: CsrfToken, Query(q): Query<NextQuery>) -> Response {
    OPERATOR_LOGIN.render(&csrf, String::new(), q.next.unwrap_or_default(), String::new()).into_response()
}

pub async fn login_submit(State(state): State<AppState>, ClientIp(ip): ClientIp, csrf: CsrfToken, headers: HeaderMap, Form(form): Form<LoginForm>) -> AppResult<Response> {
    OPERATOR_LOGIN.submit(&state, &ip, &csrf, &headers, form).await
}

pub async fn home(me: CurrentOperator, csrf: CsrfToken) -> AppResult<Response> {
    let chrome = me.chrome(&csrf, "/operator");
    Ok(t::OperatorHome { chrome, operator: me.operator }.into_response())
}
