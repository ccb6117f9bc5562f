//! Multipart form bodies for upload tests.

/// One part of a `multipart/form-data` body: a plain field, or a file with
/// its name and content type.
#[derive(Debug, Clone, Copy)]
pub struct Part<'a> {
    pub name: &'a str,
    /// The file's name and content type; `None` for a plain field.
    pub file: Option<(&'a str, &'a str)>,
    pub bytes: &'a [u8],
}

/// A plain form field.
pub fn field<'a>(name: &'a str, value: &'a str) -> Part<'a> {
    Part { name, file: None, bytes: value.as_bytes() }
}

/// A file part.
pub fn file<'a>(name: &'a str, filename: &'a str, content_type: &'a str, bytes: &'a [u8]) -> Part<'a> {
    Part { name, file: Some((filename, content_type)), bytes }
}

/// The body of `parts` and its `Content-Type` header (with the boundary).
pub fn multipart(parts: &[Part<'_>]) -> (String, Vec<u8>) {
    const BOUNDARY: &str = "testkit-form-boundary";
    let mut body = Vec::new();
    for p in parts {
        body.extend(format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{}\"", p.name).into_bytes());
        if let Some((filename, content_type)) = p.file {
            body.extend(format!("; filename=\"{filename}\"\r\nContent-Type: {content_type}").into_bytes());
        }
        body.extend(b"\r\n\r\n");
        body.extend_from_slice(p.bytes);
        body.extend(b"\r\n");
    }
    body.extend(format!("--{BOUNDARY}--\r\n").into_bytes());
    (format!("multipart/form-data; boundary={BOUNDARY}"), body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_and_files_are_framed_by_the_boundary() {
        let (content_type, body) = multipart(&[field("caption", "hi"), file("photo", "a.png", "image/png", b"\x89PNG")]);
        assert_eq!(content_type, "multipart/form-data; boundary=testkit-form-boundary");
        let expected = b"--testkit-form-boundary\r\nContent-Disposition: form-data; name=\"caption\"\r\n\r\nhi\r\n\
--testkit-form-boundary\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"a.png\"\r\nContent-Type: image/png\r\n\r\n\x89PNG\r\n\
--testkit-form-boundary--\r\n";
        assert_eq!(body, expected.to_vec());
    }
}
