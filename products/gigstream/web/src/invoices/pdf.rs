//! A small PDF page writer for invoices: positioned text in two weights of
//! an embedded font, rules and filled boxes, on A4 pages. Text is written
//! with DejaVu Sans (shipped in `web/fonts/`, Bitstream Vera licence) as a
//! CID font subset to the glyphs used, with a ToUnicode map so that the
//! text can be searched and extracted. Nothing is read at run time.
//!
//! Crates: `pdf-writer` writes the objects, `subsetter` cuts the font down
//! to the glyphs used, `ttf-parser` reads glyph ids and advances.

use pdf_writer::types::{CidFontType, FontFlags, SystemInfo};
use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref, Str, TextStr};
use std::collections::BTreeMap;

static REGULAR: &[u8] = include_bytes!("../../fonts/DejaVuSans.ttf");
static BOLD: &[u8] = include_bytes!("../../fonts/DejaVuSans-Bold.ttf");

/// A4 in points.
pub const WIDTH: f32 = 595.28;
pub const HEIGHT: f32 = 841.89;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Weight {
    Regular,
    Bold,
}

impl Weight {
    fn data(self) -> &'static [u8] {
        match self {
            Weight::Regular => REGULAR,
            Weight::Bold => BOLD,
        }
    }

    fn resource(self) -> Name<'static> {
        match self {
            Weight::Regular => Name(b"F0"),
            Weight::Bold => Name(b"F1"),
        }
    }

    /// The subset's name (a six-letter tag, then the font's name).
    fn base_font(self) -> Name<'static> {
        match self {
            Weight::Regular => Name(b"GSINVA+DejaVuSans"),
            Weight::Bold => Name(b"GSINVB+DejaVuSans-Bold"),
        }
    }

    fn face(self) -> ttf_parser::Face<'static> {
        ttf_parser::Face::parse(self.data(), 0).expect("the shipped fonts parse")
    }
}

#[derive(Debug, Clone)]
enum Op {
    Text { weight: Weight, size: f32, x: f32, y: f32, gray: f32, text: String },
    Rule { x1: f32, y1: f32, x2: f32, y2: f32, width: f32, gray: f32 },
    Fill { x: f32, y: f32, w: f32, h: f32, gray: f32 },
}

/// One page being drawn; y grows upwards from the bottom edge, as in PDF.
#[derive(Debug, Default, Clone)]
pub struct Page {
    ops: Vec<Op>,
}

/// How wide `text` is at `size` points.
pub fn text_width(weight: Weight, size: f32, text: &str) -> f32 {
    let face = weight.face();
    let per_unit = size / f32::from(face.units_per_em());
    text.chars().map(|c| advance(&face, glyph(&face, c))).sum::<f32>() * per_unit
}

fn glyph(face: &ttf_parser::Face<'_>, c: char) -> u16 {
    face.glyph_index(c).map(|g| g.0).unwrap_or(0)
}

fn advance(face: &ttf_parser::Face<'_>, gid: u16) -> f32 {
    f32::from(face.glyph_hor_advance(ttf_parser::GlyphId(gid)).unwrap_or(0))
}

/// Breaks `text` into lines no wider than `max` (words longer than a line
/// are cut).
pub fn wrap(weight: Weight, size: f32, text: &str, max: f32) -> Vec<String> {
    let mut lines = vec![];
    let mut line = String::new();
    for word in text.split_whitespace() {
        let candidate = if line.is_empty() { word.to_string() } else { format!("{line} {word}") };
        if text_width(weight, size, &candidate) <= max {
            line = candidate;
            continue;
        }
        if !line.is_empty() {
            lines.push(std::mem::take(&mut line));
        }
        let mut rest = word.to_string();
        while text_width(weight, size, &rest) > max && rest.chars().count() > 1 {
            let mut cut = rest.chars().count() - 1;
            while cut > 1 && text_width(weight, size, &rest.chars().take(cut).collect::<String>()) > max {
                cut -= 1;
            }
            lines.push(rest.chars().take(cut).collect());
            rest = rest.chars().skip(cut).collect();
        }
        line = rest;
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

impl Page {
    pub fn new() -> Page {
        Page::default()
    }

    /// Text starting at `x` on the baseline `y`.
    pub fn text(&mut self, weight: Weight, size: f32, x: f32, y: f32, text: &str) -> &mut Self {
        self.ops.push(Op::Text { weight, size, x, y, gray: 0.0, text: text.to_string() });
        self
    }

    /// Grey text (0 black … 1 white).
    pub fn text_gray(&mut self, weight: Weight, size: f32, x: f32, y: f32, gray: f32, text: &str) -> &mut Self {
        self.ops.push(Op::Text { weight, size, x, y, gray, text: text.to_string() });
        self
    }

    /// Text ending at `right` on the baseline `y`.
    pub fn text_right(&mut self, weight: Weight, size: f32, right: f32, y: f32, text: &str) -> &mut Self {
        let x = right - text_width(weight, size, text);
        self.text(weight, size, x, y, text)
    }

    pub fn rule(&mut self, x1: f32, y1: f32, x2: f32, y2: f32, width: f32, gray: f32) -> &mut Self {
        self.ops.push(Op::Rule { x1, y1, x2, y2, width, gray });
        self
    }

    pub fn fill(&mut self, x: f32, y: f32, w: f32, h: f32, gray: f32) -> &mut Self {
        self.ops.push(Op::Fill { x, y, w, h, gray });
        self
    }
}

fn deflate(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).expect("writing to memory");
    e.finish().expect("writing to memory")
}

/// A font as used by the document: old glyph id → (new glyph id, the
/// character it shows).
struct Used {
    remapper: subsetter::GlyphRemapper,
    chars: BTreeMap<u16, char>,
}

/// Writes the pages as one PDF with `title` in its information dictionary.
pub fn render(title: &str, pages: &[Page]) -> Result<Vec<u8>, String> {
    // Which glyphs each weight needs, remapped to a dense subset.
    let mut used: BTreeMap<Weight, Used> = BTreeMap::new();
    for op in pages.iter().flat_map(|p| &p.ops) {
        if let Op::Text { weight, text, .. } = op {
            let face = weight.face();
            let u = used.entry(*weight).or_insert_with(|| Used { remapper: subsetter::GlyphRemapper::new(), chars: BTreeMap::new() });
            for c in text.chars() {
                let new = u.remapper.remap(glyph(&face, c));
                u.chars.entry(new).or_insert(c);
            }
        }
    }

    let mut pdf = Pdf::new();
    let mut next = Ref::new(1);
    let catalog = next.bump();
    let tree = next.bump();
    let info = next.bump();
    let page_ids: Vec<(Ref, Ref)> = pages.iter().map(|_| (next.bump(), next.bump())).collect();
    let font_ids: BTreeMap<Weight, Ref> = used.keys().map(|w| (*w, next.bump())).collect();

    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree).kids(page_ids.iter().map(|(page, _)| *page)).count(pages.len() as i32);
    pdf.document_info(info).title(TextStr(title)).producer(TextStr("GigStream"));

    for (page, (page_id, content_id)) in pages.iter().zip(&page_ids) {
        let mut content = Content::new();
        for op in &page.ops {
            match op {
                Op::Fill { x, y, w, h, gray } => {
                    content.set_fill_gray(*gray).rect(*x, *y, *w, *h).fill_nonzero();
                }
                Op::Rule { x1, y1, x2, y2, width, gray } => {
                    content.set_stroke_gray(*gray).set_line_width(*width).move_to(*x1, *y1).line_to(*x2, *y2).stroke();
                }
                Op::Text { weight, size, x, y, gray, text } => {
                    let face = weight.face();
                    let u = &used[weight];
                    let mut bytes = Vec::with_capacity(text.len() * 2);
                    for c in text.chars() {
                        let new = u.remapper.get(glyph(&face, c)).unwrap_or(0);
                        bytes.extend_from_slice(&new.to_be_bytes());
                    }
                    content.set_fill_gray(*gray);
                    content.begin_text().set_font(weight.resource(), *size).next_line(*x, *y).show(Str(&bytes)).end_text();
                }
            }
        }
        let data = deflate(&content.finish());
        pdf.stream(*content_id, &data).filter(Filter::FlateDecode);
        let mut p = pdf.page(*page_id);
        p.media_box(Rect::new(0.0, 0.0, WIDTH, HEIGHT)).parent(tree).contents(*content_id);
        let mut resources = p.resources();
        let mut fonts = resources.fonts();
        for (weight, id) in &font_ids {
            fonts.pair(weight.resource(), *id);
        }
        fonts.finish();
        resources.finish();
        p.finish();
    }

    let system = SystemInfo { registry: Str(b"Adobe"), ordering: Str(b"Identity"), supplement: 0 };
    for (weight, type0) in &font_ids {
        let u = &used[weight];
        let face = weight.face();
        let (cid, descriptor, cmap, file) = (next.bump(), next.bump(), next.bump(), next.bump());
        let subset = subsetter::subset(weight.data(), 0, &u.remapper).map_err(|e| format!("font subset: {e:?}"))?;
        let scale = 1000.0 / f32::from(face.units_per_em());
        pdf.type0_font(*type0).base_font(weight.base_font()).encoding_predefined(Name(b"Identity-H")).descendant_font(cid).to_unicode(cmap);
        let mut c = pdf.cid_font(cid);
        c.subtype(CidFontType::Type2)
            .base_font(weight.base_font())
            .system_info(system)
            .font_descriptor(descriptor)
            .default_width(0.0)
            .cid_to_gid_map_predefined(Name(b"Identity"));
        let mut widths = c.widths();
        for old in u.remapper.remapped_gids() {
            let new = u.remapper.get(old).unwrap_or(0);
            widths.consecutive(new, [advance(&face, old) * scale]);
        }
        widths.finish();
        c.finish();
        let b = face.global_bounding_box();
        pdf.font_descriptor(descriptor)
            .name(weight.base_font())
            .flags(FontFlags::NON_SYMBOLIC)
            .bbox(Rect::new(f32::from(b.x_min) * scale, f32::from(b.y_min) * scale, f32::from(b.x_max) * scale, f32::from(b.y_max) * scale))
            .italic_angle(0.0)
            .ascent(f32::from(face.ascender()) * scale)
            .descent(f32::from(face.descender()) * scale)
            .cap_height(f32::from(face.capital_height().unwrap_or(face.ascender())) * scale)
            .stem_v(if *weight == Weight::Bold { 140.0 } else { 80.0 })
            .font_file2(file);
        let mut map = pdf_writer::types::UnicodeCmap::new(Name(b"GigStream-UTF16"), system);
        for (new, ch) in &u.chars {
            map.pair(*new, *ch);
        }
        let map = map.finish();
        pdf.cmap(cmap, map.as_slice()).name(Name(b"GigStream-UTF16")).system_info(system);
        let packed = deflate(&subset);
        pdf.stream(file, &packed).filter(Filter::FlateDecode).pair(Name(b"Length1"), subset.len() as i32);
    }
    Ok(pdf.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_measured_and_wrapped_to_the_width() {
        let w = text_width(Weight::Regular, 10.0, "Invoice");
        assert!(w > 25.0 && w < 45.0, "{w}");
        assert!(text_width(Weight::Bold, 10.0, "Invoice") > w, "bold is wider");
        let lines = wrap(Weight::Regular, 10.0, "one two three four five six seven eight nine ten", 60.0);
        assert!(lines.len() > 2, "{lines:?}");
        assert!(lines.iter().all(|l| text_width(Weight::Regular, 10.0, l) <= 60.0), "{lines:?}");
        assert_eq!(lines.join(" "), "one two three four five six seven eight nine ten");
        let long = wrap(Weight::Regular, 10.0, &"x".repeat(80), 60.0);
        assert!(long.len() > 1 && long.concat() == "x".repeat(80), "{long:?}");
    }

    #[test]
    fn a_document_embeds_only_the_glyphs_it_uses() {
        let mut page = Page::new();
        page.text(Weight::Bold, 20.0, 50.0, 780.0, "Invoice").text(Weight::Regular, 10.0, 50.0, 760.0, "Zażółć €12.50");
        let bytes = render("Test", &[page]).unwrap();
        assert!(bytes.starts_with(b"%PDF-"), "a PDF");
        assert!(bytes.len() < 60_000, "subset, not the whole 750 KB font: {} bytes", bytes.len());
        let text = String::from_utf8_lossy(&bytes);
        assert!(text.contains("/FontFile2") && text.contains("/ToUnicode") && text.contains("DejaVuSans-Bold"));
    }
}
