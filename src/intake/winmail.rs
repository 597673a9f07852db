//! `winmail.dat` (TNEF): Outlook with RTF puts the attachments (a customer's photo of a
//! damaged book) inside it, and sometimes the plain body too. Each attachment inside becomes
//! an attachment like any other; a container that cannot be read is kept as it is, so
//! nothing is lost.
//!
//! The format is a signature, a key, and a run of attributes (level, id, length, data,
//! checksum; MS-OXTNEF §2.1.3). crates.io's `tnef` 0.1.1 reads it too, but rejects any file
//! holding an attribute id it does not know: it unpacked 3 of the 19 public samples in
//! `testdata/tnef/`, so this small reader, which skips what it does not need, is used
//! instead. Not done: a body that exists only as compressed RTF in the MAPI properties.

/// A file found inside a container: its name as written and its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct File {
    /// The name as the sender's Outlook wrote it (not yet made safe).
    pub name: String,
    /// A MIME type guessed from the extension (TNEF keeps none).
    pub content_type: &'static str,
    /// The bytes.
    pub data: Vec<u8>,
}

/// The TNEF signature (MS-OXTNEF §2.1.3.1), little endian.
const SIGNATURE: u32 = 0x223e_9f78;
/// attBody: the message's plain text (level 1).
const ATT_BODY: u32 = 0x0002_800c;
/// attAttachRendData: starts a new attachment (level 2).
const ATT_ATTACH_REND_DATA: u32 = 0x0006_9002;
/// attAttachTitle: the attachment's (short) file name.
const ATT_ATTACH_TITLE: u32 = 0x0001_8010;
/// attAttachData: the attachment's bytes.
const ATT_ATTACH_DATA: u32 = 0x0006_800f;

/// What a TNEF container holds that the bot uses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Unpacked {
    /// The attachments inside.
    pub attachments: Vec<File>,
    /// attBody, when present.
    pub body: Option<String>,
}

/// Reads a TNEF container; `None` when it is not one or is cut short.
pub fn read(data: &[u8]) -> Option<Unpacked> {
    let mut rest = data;
    let signature = take_u32(&mut rest)?;
    if signature != SIGNATURE {
        return None;
    }
    take(&mut rest, 2)?; // legacy key
    let mut out = Unpacked::default();
    let mut current: Option<(Option<String>, Option<Vec<u8>>)> = None;
    // Garbage after the last attribute (some gateways pad the file) ends the reading; what
    // was read so far is kept.
    while let Some((level, id, value)) = attribute(&mut rest) {
        match (level, id) {
            (1, ATT_BODY) => out.body = Some(text(value)),
            (2, ATT_ATTACH_REND_DATA) => {
                finish(&mut out, current.take());
                current = Some((None, None));
            }
            (2, ATT_ATTACH_TITLE) => {
                if let Some(c) = current.as_mut() {
                    c.0 = Some(text(value));
                }
            }
            (2, ATT_ATTACH_DATA) => {
                if let Some(c) = current.as_mut() {
                    c.1 = Some(value.to_vec());
                }
            }
            _ => {}
        }
    }
    finish(&mut out, current);
    Some(out)
}

/// One attribute: level, id, value. The checksum is not checked: a wrong one is no reason
/// to drop a customer's file.
fn attribute<'a>(rest: &mut &'a [u8]) -> Option<(u8, u32, &'a [u8])> {
    let level = *take(rest, 1)?.first()?;
    let id = take_u32(rest)?;
    let len = usize::try_from(take_u32(rest)?).ok()?;
    let value = take(rest, len)?;
    take(rest, 2)?;
    Some((level, id, value))
}

fn finish(out: &mut Unpacked, current: Option<(Option<String>, Option<Vec<u8>>)>) {
    if let Some((title, Some(data))) = current {
        let name = title.unwrap_or_default();
        out.attachments.push(File {
            content_type: content_type_of(&name),
            name,
            data,
        });
    }
}

/// TNEF strings are 8-bit in the sender's code page and NUL-terminated; Latin-1 is the
/// common case for our languages.
fn text(value: &[u8]) -> String {
    let end = value.iter().position(|&b| b == 0).unwrap_or(value.len());
    match std::str::from_utf8(&value[..end]) {
        Ok(s) => s.to_string(),
        Err(_) => value[..end].iter().map(|&b| char::from(b)).collect(),
    }
}

fn take<'a>(rest: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
    if rest.len() < n {
        return None;
    }
    let (head, tail) = rest.split_at(n);
    *rest = tail;
    Some(head)
}

fn take_u32(rest: &mut &[u8]) -> Option<u32> {
    let b = take(rest, 4)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// Whether an attachment (by its MIME type and file name) is a TNEF container.
pub fn is_tnef(content_type: &str, filename: &str) -> bool {
    content_type == "application/ms-tnef"
        || content_type == "application/vnd.ms-tnef"
        || filename.eq_ignore_ascii_case("winmail.dat")
}

/// The files inside a TNEF container, or `None` when it cannot be read or holds none.
pub fn unpack(data: &[u8]) -> Option<Vec<File>> {
    read(data).map(|u| u.attachments).filter(|a| !a.is_empty())
}

/// TNEF keeps no MIME type for attachments; the extension tells it well enough to show.
fn content_type_of(name: &str) -> &'static str {
    let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    match ext.as_deref() {
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("png") => "image/png",
        Some("gif") => "image/gif",
        Some("pdf") => "application/pdf",
        Some("txt") => "text/plain",
        Some("doc") => "application/msword",
        Some("docx") => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str) -> Vec<u8> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("testdata/tnef")
            .join(name);
        std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    #[test]
    fn one_file_and_two_files_are_unpacked_with_their_names_and_body_read() {
        assert!(read(&file("body.tnef")).is_some());
        let one = unpack(&file("one-file.tnef")).expect("one-file.tnef unpacks");
        assert_eq!(one.len(), 1);
        assert_eq!(one[0].name, "AUTHORS");
        assert!(String::from_utf8_lossy(&one[0].data).contains("Authors of tnef"));
        let two = unpack(&file("two-files.tnef")).expect("two-files.tnef unpacks");
        assert_eq!(two.len(), 2);
    }

    #[test]
    fn an_unreadable_container_is_not_read() {
        assert_eq!(unpack(b"not tnef"), None);
        assert!(is_tnef("application/octet-stream", "WINMAIL.DAT"));
    }

    #[test]
    fn the_public_tnef_samples_unpack_or_are_kept() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/tnef");
        let mut names: Vec<_> = std::fs::read_dir(&dir)
            .expect("testdata/tnef")
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".tnef"))
            .collect();
        names.sort();
        assert!(names.len() >= 19, "{names:?}");
        let unpacked: Vec<&String> = names
            .iter()
            .filter(|n| unpack(&file(n)).is_some())
            .collect();
        println!(
            "tnef samples: {} files, {} unpacked: {unpacked:?}",
            names.len(),
            unpacked.len()
        );
        assert!(unpacked.len() >= 11, "{unpacked:?}");
    }
}
