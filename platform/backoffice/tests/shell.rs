//! A product page on the shared shell: a template in the product's own
//! directory extends `backoffice/shell.html` and calls the macros.

use askama::Template;
use platform_backoffice::forms::Flash;
use platform_backoffice::keyset::{Cursor, Direction, KeysetPage, Pager};
use platform_backoffice::shell::{confirmed, nav, Cell, Confirm, FilterField, Filters, Shell, Table, STYLESHEET};

#[derive(Template)]
#[template(path = "audit_page.html")]
struct AuditPage {
    shell: Shell,
    filters: Filters,
    table: Table,
    pager: Pager,
    delete: Confirm,
}

const NAV: &[(&str, &str)] = &[("Dashboard", "/admin"), ("Users", "/admin/users"), ("Audit log", "/admin/audit")];

fn page(rows: Vec<Vec<Cell>>, pager: Pager) -> AuditPage {
    AuditPage {
        shell: Shell {
            product: "Example".into(),
            title: "Audit log".into(),
            home: "/admin".into(),
            stylesheet: "/assets/backoffice.css".into(),
            nav: nav(NAV, "/admin/audit"),
            flash: Flash { notice: "Saved <b>all</b>".into(), error: String::new() },
            who: "Ann".into(),
            csrf_token: "tok123".into(),
            logout: "/admin/logout".into(),
        },
        filters: Filters {
            action: "/admin/audit".into(),
            fields: vec![
                FilterField::select("action", "Action", "user.ban", &[("", "Any"), ("user.ban", "Ban"), ("user.credit", "Credit")]),
                FilterField::input("from", "From", "date", "2026-01-01"),
            ],
        },
        table: Table {
            columns: vec!["When".into(), "Who".into(), "Subject".into()],
            rows,
            empty: "Nothing recorded yet".into(),
            keys: vec!["row-90".into()],
        },
        pager,
        delete: Confirm {
            action: "/admin/audit/purge".into(),
            label: "Purge".into(),
            question: "Purge entries older than a year?".into(),
            csrf_token: "tok123".into(),
        },
    }
}

#[test]
fn the_shell_renders_navigation_flash_filters_table_pager_and_confirmation() {
    let d = Direction::Before(Cursor::new(100, 100));
    let keyset = KeysetPage::from_rows(vec![90i64, 80, 70], &d, 2, |r| Cursor::new(r, r));
    let pager = keyset.pager("/admin/audit", &[("action", "user.ban")]);
    let rows = keyset
        .items
        .iter()
        .map(|n| {
            vec![Cell::text(format!("day {n}")), Cell::link("<script>x</script>", format!("/admin/users/{n}")), Cell::mono(n.to_string())]
        })
        .collect();
    let html = page(rows, pager.clone()).render().unwrap();

    assert!(html.contains("<title>Audit log · Example</title>"), "{html}");
    assert!(html.contains(r#"<a href="/admin/audit" aria-current="page">Audit log</a>"#), "the current page is marked");
    assert!(html.contains(r#"<a href="/admin">Dashboard</a>"#), "the others are not");
    assert!(html.contains("Saved &#60;b&#62;all&#60;/b&#62;") || html.contains("Saved &lt;b&gt;all&lt;/b&gt;"), "flash is escaped: {html}");
    assert!(!html.contains("<script>"), "cells are escaped");
    assert!(html.contains(r#"<option value="user.ban" selected>Ban</option>"#));
    assert!(html.contains(r#"<input name="from" type="date" value="2026-01-01">"#));
    assert_eq!(html.matches("<tr>").count(), 2, "a heading and the row without a key");
    assert_eq!(html.matches(r#"<tr data-key="row-90">"#).count(), 1, "the keyed row");
    assert!(html.contains(r#"<td data-label="Subject" class="bo-mono">90</td>"#), "cells carry their column for phones: {html}");
    assert!(html.contains(r#"<td data-label="Subject" class="bo-mono">80</td>"#) && !html.contains(">70<"));
    let older = pager.older.unwrap().replace('&', "&#38;");
    let newer = pager.newer.unwrap().replace('&', "&#38;");
    assert!(html.contains(&older) || html.contains(&older.replace("&#38;", "&amp;")), "older link: {html}");
    assert!(html.contains(&newer) || html.contains(&newer.replace("&#38;", "&amp;")), "newer link");
    assert!(html.contains(r#"<form method="post" action="/admin/audit/purge">"#));
    assert!(html.contains(r#"<input type="hidden" name="confirm" value="yes">"#));
    assert_eq!(html.matches(r#"name="csrf_token" value="tok123""#).count(), 2, "sign-out and confirm forms carry the token");
    assert!(!html.contains("style=") && !html.contains("<script"), "nothing inline for the CSP");
}

#[test]
fn an_empty_list_says_so_and_has_no_pager() {
    let html = page(vec![], Pager::default()).render().unwrap();
    assert!(html.contains(r#"<p class="bo-empty">Nothing recorded yet</p>"#));
    assert!(!html.contains("<table"));
    assert!(!html.contains("bo-pager"));
}

#[test]
fn navigation_marks_the_longest_matching_link_and_destructive_posts_need_confirmation() {
    let items = nav(NAV, "/admin/users/42");
    assert_eq!(items.iter().filter(|i| i.current).map(|i| i.label.as_str()).collect::<Vec<_>>(), vec!["Users"]);
    let items = nav(NAV, "/admin");
    assert_eq!(items.iter().filter(|i| i.current).map(|i| i.label.as_str()).collect::<Vec<_>>(), vec!["Dashboard"]);
    assert!(nav(NAV, "/admin/usersx").iter().filter(|i| i.current).all(|i| i.label == "Dashboard"));
    assert!(confirmed(Some("yes")).is_ok());
    for refused in [None, Some(""), Some("no")] {
        match confirmed(refused) {
            Err(platform_web::AppError::Validation(e)) => assert!(e.for_field("confirm").is_some()),
            other => panic!("{refused:?}: {other:?}"),
        }
    }
    assert!(STYLESHEET.contains("@media (min-width: 900px)"));
}

/// The ready list page renders the same parts without a template of the
/// product's own.
#[test]
fn the_list_page_needs_no_template_of_its_own() {
    let p =
        page(vec![vec![Cell::text("day 1"), Cell::text("Ann"), Cell::lines("", vec!["status: active → banned".into()])]], Pager::default());
    let list = platform_backoffice::shell::ListPage { shell: p.shell, filters: p.filters, table: p.table, pager: p.pager };
    let html = list.render().unwrap();
    assert!(html.contains("<title>Audit log · Example</title>") && html.contains(r#"<form class="bo-filters""#), "{html}");
    assert!(html.contains(r#"<tr data-key="row-90"><td data-label="When">day 1</td>"#), "{html}");
    assert!(html.contains(r#"<ul class="bo-lines"><li>status: active → banned</li></ul>"#), "{html}");
    assert!(!html.contains("bo-pager") && !html.contains("danger-zone"), "no pages to link, no extra block");
}
