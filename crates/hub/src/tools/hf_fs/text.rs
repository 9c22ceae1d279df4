//! Which files `cat` may read as text and which `attach` may return as images.

const TEXT_NAMES: &[&str] = &[
    ".dockerignore",
    ".env",
    ".gitattributes",
    ".gitignore",
    ".gitmodules",
    "authors",
    "citation",
    "contributing",
    "copying",
    "dockerfile",
    "license",
    "notice",
    "readme",
    "makefile",
    "requirements.txt",
];

const TEXT_EXTENSIONS: &[&str] = &[
    "txt",
    "md",
    "markdown",
    "mdx",
    "rst",
    "adoc",
    "json",
    "jsonl",
    "ndjson",
    "yaml",
    "yml",
    "toml",
    "ini",
    "cfg",
    "conf",
    "properties",
    "csv",
    "tsv",
    "xml",
    "html",
    "htm",
    "css",
    "js",
    "mjs",
    "cjs",
    "ts",
    "tsx",
    "mts",
    "cts",
    "jsx",
    "py",
    "pyi",
    "ipynb",
    "rs",
    "go",
    "java",
    "kt",
    "scala",
    "swift",
    "c",
    "h",
    "cc",
    "cpp",
    "hpp",
    "cu",
    "cuh",
    "cs",
    "rb",
    "php",
    "pl",
    "r",
    "jl",
    "lua",
    "sh",
    "bash",
    "zsh",
    "ps1",
    "bat",
    "sql",
    "tex",
    "bib",
    "cmake",
    "dockerfile",
    "env",
    "lock",
    "patch",
    "diff",
    "svg",
    "gitattributes",
    "gitignore",
    "model_card",
    "vocab",
    "merges",
    "spm",
    "tiktoken",
    "log",
    "srt",
    "vtt",
];

const BINARY_EXTENSIONS: &[&str] = &[
    "arrow",
    "avro",
    "ckpt",
    "feather",
    "ggml",
    "gguf",
    "h5",
    "h5ad",
    "hdf5",
    "joblib",
    "keras",
    "model",
    "npy",
    "npz",
    "onnx",
    "orc",
    "parquet",
    "pb",
    "pickle",
    "pkl",
    "pt",
    "pth",
    "safetensors",
    "tflite",
    "tgz",
    "zst",
    "bin",
    "gz",
    "zip",
    "tar",
    "7z",
    "bz2",
    "xz",
    "rar",
    "pdf",
    "doc",
    "docx",
    "xls",
    "xlsx",
    "ppt",
    "pptx",
    "exe",
    "dll",
    "so",
    "dylib",
    "jpg",
    "jpeg",
    "png",
    "webp",
    "gif",
    "bmp",
    "tif",
    "tiff",
    "ico",
    "mp3",
    "wav",
    "flac",
    "ogg",
    "m4a",
    "mp4",
    "mov",
    "avi",
    "mkv",
    "webm",
    "woff",
    "woff2",
    "ttf",
    "otf",
    "mlmodel",
    "msgpack",
    "ot",
    "mar",
    "engine",
    "plan",
    "db",
    "sqlite",
    "lance",
    "idx",
    "index",
    "weight",
];

#[derive(Debug, PartialEq, Eq)]
pub enum Class {
    Text,
    Binary,
    Unknown,
}

fn extension(path: &str) -> Option<String> {
    let name = super::model::basename(path);
    let (stem, ext) = name.rsplit_once('.')?;
    (!stem.is_empty()).then(|| ext.to_ascii_lowercase())
}

pub fn classify(path: &str) -> Class {
    let name = super::model::basename(path).to_ascii_lowercase();
    let ext = extension(path);
    if let Some(e) = &ext {
        if BINARY_EXTENSIONS.contains(&e.as_str()) {
            return Class::Binary;
        }
        if TEXT_EXTENSIONS.contains(&e.as_str()) {
            return Class::Text;
        }
    }
    let bare = name.split('.').next().unwrap_or(&name);
    if TEXT_NAMES.contains(&name.as_str()) || TEXT_NAMES.contains(&bare) {
        return Class::Text;
    }
    Class::Unknown
}

pub fn image_mime(path: &str) -> Option<&'static str> {
    match extension(path)?.as_str() {
        "jpg" | "jpeg" => Some("image/jpeg"),
        "png" => Some("image/png"),
        "webp" => Some("image/webp"),
        _ => None,
    }
}

/// Decode downloaded bytes as text, rejecting NUL bytes, invalid UTF-8 and control noise.
pub fn decode(path: &str, bytes: &[u8]) -> Result<String, String> {
    if bytes.contains(&0) {
        return Err(non_text(path, "The downloaded byte range contains NUL bytes."));
    }
    let text =
        std::str::from_utf8(bytes).map_err(|_| non_text(path, "The downloaded byte range is not valid UTF-8 text."))?;
    let controls = text.chars().filter(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r' | '\x0c')).count();
    if controls > 8 && controls * 50 > text.chars().count().max(1) {
        return Err(non_text(path, "The decoded content contains too many control characters."));
    }
    Ok(text.to_owned())
}

pub fn non_text(path: &str, reason: &str) -> String {
    let hint = if image_mime(path).is_some() {
        "Use attach to return this image to the model, or stat for metadata."
    } else {
        "Use ls or stat for file metadata."
    };
    format!("Refusing to cat non-text file: {path}. {reason} {hint}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies() {
        assert_eq!(classify("README.md"), Class::Text);
        assert_eq!(classify("LICENSE"), Class::Text);
        assert_eq!(classify("model.safetensors"), Class::Binary);
        assert_eq!(classify("a/b/tokenizer.model"), Class::Binary);
        assert_eq!(classify("weird.xyz"), Class::Unknown);
        assert_eq!(image_mime("x/01.PNG"), Some("image/png"));
        assert!(decode("x", b"ok\n").is_ok());
        assert!(decode("x", &[0xff, 0xfe]).is_err());
    }
}
