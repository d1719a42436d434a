use super::*;

fn hub(repo: &str, revision: &str) -> ModelSource {
    ModelSource::Hub { repo: repo.into(), revision: revision.into() }
}

fn parse(arg: &str) -> Result<ModelSource, HubError> {
    ModelSource::parse_with_home(arg, Some(Path::new("/home/me")))
}

#[test]
fn parse_repo_ids_and_revisions() {
    assert_eq!(parse("openai/gpt-oss-20b").ok(), Some(hub("openai/gpt-oss-20b", "main")));
    assert_eq!(parse("openai/gpt-oss-120b@v1.0").ok(), Some(hub("openai/gpt-oss-120b", "v1.0")));
    assert_eq!(parse("openai/gpt-oss-20b@refs/pr/3").ok(), Some(hub("openai/gpt-oss-20b", "refs/pr/3")));
    let sha = "d666cf3b67006cf8227666739edf25164aaffdeb";
    assert_eq!(parse(&format!("openai/gpt-oss-20b@{sha}")).ok(), Some(hub("openai/gpt-oss-20b", sha)));
    assert_eq!(parse(DEFAULT_MODEL).ok(), Some(hub(DEFAULT_MODEL, DEFAULT_REVISION)));
}

#[test]
fn parse_paths() {
    let local = |p: &str| Some(ModelSource::Local(PathBuf::from(p)));
    assert_eq!(parse("/models/gpt-oss-20b").ok(), local("/models/gpt-oss-20b"));
    assert_eq!(parse("./openai/gpt-oss-20b").ok(), local("./openai/gpt-oss-20b"));
    assert_eq!(parse("../gpt-oss").ok(), local("../gpt-oss"));
    assert_eq!(parse(".").ok(), local("."));
    assert_eq!(parse("~/models/gpt-oss-20b").ok(), local("/home/me/models/gpt-oss-20b"));
    assert_eq!(parse("~").ok(), local("/home/me"));
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_str().unwrap();
    assert_eq!(parse(dir).ok(), local(dir));
    // An existing relative directory shaped like a repo id is a directory.
    assert_eq!(parse("src").ok(), local("src"));
}

#[test]
fn parse_rejects() {
    for arg in [
        "",
        "  ",
        "gpt-oss-20b",
        "openai/gpt-oss/20b",
        "openai/",
        "openai/gpt oss",
        "openai/gpt-oss-20b@",
        "openai/gpt-oss-20b@../../x",
        "openai/-gpt",
        "open--ai/gpt",
        "~other/models",
    ] {
        match parse(arg) {
            Err(HubError::InvalidModel { .. }) => {}
            other => panic!("{arg:?} gave {other:?}"),
        }
    }
    let message = parse("gpt-oss-20b").unwrap_err().to_string();
    assert!(message.contains("owner/name") && message.contains("openai/gpt-oss-20b?"), "{message}");
    assert!(ModelSource::parse_with_home("~/x", None).is_err());
}

#[test]
fn display_round_trips() {
    for arg in ["openai/gpt-oss-20b", "openai/gpt-oss-20b@refs/pr/1", "/models/x"] {
        assert_eq!(parse(arg).unwrap().to_string(), arg);
    }
}

fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    move |name| map.get(name).cloned()
}

fn options(pairs: &[(&str, &str)]) -> HubOptions {
    HubOptions::from_vars(vars(pairs), Some(Path::new("/home/me")))
}

#[test]
fn cache_dir_precedence() {
    let dir = |pairs: &[(&str, &str)]| options(pairs).cache_dir;
    let p = |s: &str| Some(PathBuf::from(s));
    assert_eq!(dir(&[]), p("/home/me/.cache/huggingface/hub"));
    assert_eq!(dir(&[("XDG_CACHE_HOME", "/xdg")]), p("/xdg/huggingface/hub"));
    assert_eq!(dir(&[("XDG_CACHE_HOME", "/xdg"), ("HF_HOME", "/hf")]), p("/hf/hub"));
    assert_eq!(dir(&[("HF_HOME", "~/hf")]), p("/home/me/hf/hub"));
    assert_eq!(dir(&[("HF_HOME", "/hf"), ("HUGGINGFACE_HUB_CACHE", "/old")]), p("/old"));
    assert_eq!(dir(&[("HF_HOME", "/hf"), ("HUGGINGFACE_HUB_CACHE", "/old"), ("HF_HUB_CACHE", "/new")]), p("/new"));
    // Empty values count as unset, as in huggingface_hub.
    assert_eq!(dir(&[("HF_HOME", ""), ("HF_HUB_CACHE", "")]), p("/home/me/.cache/huggingface/hub"));
    assert_eq!(HubOptions::from_vars(vars(&[]), None).cache_dir, None);
    assert_eq!(HubOptions::from_vars(vars(&[("HF_HOME", "/hf")]), None).cache_dir, p("/hf/hub"));
}

#[test]
fn offline_endpoint_and_token() {
    assert!(!options(&[]).offline);
    for value in ["1", "ON", "yes", "True"] {
        assert!(options(&[("HF_HUB_OFFLINE", value)]).offline, "{value}");
    }
    assert!(options(&[("TRANSFORMERS_OFFLINE", "1")]).offline);
    assert!(!options(&[("HF_HUB_OFFLINE", "0")]).offline);
    assert_eq!(options(&[]).endpoint, DEFAULT_ENDPOINT);
    assert_eq!(options(&[("HF_ENDPOINT", "https://hf-mirror.com/")]).endpoint, "https://hf-mirror.com");

    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().to_str().unwrap();
    std::fs::write(tmp.path().join("token"), "hf_file\n").unwrap();
    assert_eq!(options(&[("HF_HOME", home)]).token.as_deref(), Some("hf_file"));
    assert_eq!(options(&[("HF_HOME", home), ("HF_TOKEN", "hf_env")]).token.as_deref(), Some("hf_env"));
    let path = tmp.path().join("elsewhere");
    std::fs::write(&path, "hf_path").unwrap();
    let path = path.to_str().unwrap();
    assert_eq!(options(&[("HF_HOME", home), ("HF_TOKEN_PATH", path)]).token.as_deref(), Some("hf_path"));
    assert_eq!(options(&[("HF_HOME", "/nonexistent")]).token, None);
}

const SHARDS: [&str; 2] = ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"];

fn write_index(dir: &Path) {
    let index = serde_json::json!({
        "metadata": {},
        "weight_map": {"a": SHARDS[0], "b": SHARDS[1], "c": SHARDS[1]}
    });
    std::fs::write(dir.join(INDEX), index.to_string()).unwrap();
}

fn model_dir(files: &[&str]) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    for file in files {
        std::fs::write(tmp.path().join(file), "{}").unwrap();
    }
    tmp
}

fn missing_file(result: Result<ResolvedModel, HubError>) -> String {
    match result {
        Err(HubError::MissingFile { file, .. }) => file,
        other => panic!("expected a missing file, got {other:?}"),
    }
}

#[test]
fn local_directories() {
    let tmp = model_dir(&[CONFIG, TOKENIZER, SINGLE_WEIGHTS]);
    let model = resolve(&ModelSource::Local(tmp.path().into()), &HubOptions::default()).unwrap();
    assert_eq!(model.dir, std::fs::canonicalize(tmp.path()).unwrap());
    assert_eq!(Some(model.id.as_str()), tmp.path().file_name().and_then(|n| n.to_str()));
    assert_eq!(model.commit, None);

    let local = |tmp: &tempfile::TempDir| resolve(&ModelSource::Local(tmp.path().into()), &HubOptions::default());
    assert_eq!(missing_file(local(&model_dir(&[CONFIG, SINGLE_WEIGHTS]))), TOKENIZER);
    assert_eq!(missing_file(local(&model_dir(&[TOKENIZER, SINGLE_WEIGHTS]))), CONFIG);
    let no_weights = missing_file(local(&model_dir(&[CONFIG, TOKENIZER])));
    assert!(no_weights.contains(SINGLE_WEIGHTS), "{no_weights}");
    let message = local(&model_dir(&[CONFIG, SINGLE_WEIGHTS])).unwrap_err().to_string();
    assert!(message.contains("has no tokenizer.json"), "{message}");

    let sharded = model_dir(&[CONFIG, TOKENIZER, SHARDS[0]]);
    write_index(sharded.path());
    assert_eq!(missing_file(local(&sharded)), SHARDS[1]);
    std::fs::write(sharded.path().join(SHARDS[1]), "").unwrap();
    assert!(local(&sharded).is_ok());

    let bad = model_dir(&[CONFIG, TOKENIZER]);
    std::fs::write(bad.path().join(INDEX), r#"{"weight_map": {"a": "../escape.safetensors"}}"#).unwrap();
    assert!(matches!(local(&bad), Err(HubError::BadIndex { .. })));
    std::fs::write(bad.path().join(INDEX), "not json").unwrap();
    assert!(matches!(local(&bad), Err(HubError::BadIndex { .. })));

    let gone = tmp.path().join("nope");
    assert!(matches!(
        resolve(&ModelSource::Local(gone), &HubOptions::default()),
        Err(HubError::NoSuchDirectory { .. })
    ));
    let file = tmp.path().join(CONFIG);
    assert!(matches!(resolve(&ModelSource::Local(file), &HubOptions::default()), Err(HubError::NotADirectory { .. })));
}

const SHA: &str = "d666cf3b67006cf8227666739edf25164aaffdeb";

/// A cache laid out as huggingface_hub lays it out: refs/main, blobs,
/// and snapshot entries that are relative symlinks (files elsewhere).
fn fake_cache(files: &[&str]) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("models--openai--gpt-oss-20b");
    let snapshot = repo.join("snapshots").join(SHA);
    std::fs::create_dir_all(repo.join("refs")).unwrap();
    std::fs::create_dir_all(repo.join("blobs")).unwrap();
    std::fs::create_dir_all(&snapshot).unwrap();
    std::fs::write(repo.join("refs").join("main"), SHA).unwrap();
    for (i, file) in files.iter().enumerate() {
        let etag = format!("{i:064x}");
        let contents = if *file == INDEX {
            serde_json::json!({"weight_map": {"a": SHARDS[0], "b": SHARDS[1]}}).to_string()
        } else {
            "{}".into()
        };
        std::fs::write(repo.join("blobs").join(&etag), contents).unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(Path::new("../../blobs").join(&etag), snapshot.join(file)).unwrap();
        #[cfg(not(unix))]
        std::fs::copy(repo.join("blobs").join(&etag), snapshot.join(file)).unwrap();
    }
    (tmp, snapshot)
}

fn offline(cache: &Path) -> HubOptions {
    HubOptions {
        offline: true,
        cache_dir: Some(cache.into()),
        // Unreachable: offline resolution must not try it.
        endpoint: "http://127.0.0.1:9".into(),
        ..HubOptions::default()
    }
}

#[test]
fn offline_from_the_cache() {
    let files = [CONFIG, "generation_config.json", TOKENIZER, INDEX, SHARDS[0], SHARDS[1]];
    let (cache, snapshot) = fake_cache(&files);
    let model = resolve(&hub(DEFAULT_MODEL, "main"), &offline(cache.path())).unwrap();
    assert_eq!(model, ResolvedModel { dir: snapshot.clone(), id: DEFAULT_MODEL.into(), commit: Some(SHA.into()) });
    // A full commit sha names the snapshot without a ref.
    let by_sha = resolve(&hub(DEFAULT_MODEL, SHA), &offline(cache.path())).unwrap();
    assert_eq!(by_sha.dir, snapshot);
    // refs written with a trailing newline still work.
    let refs = cache.path().join("models--openai--gpt-oss-20b/refs/main");
    std::fs::write(&refs, format!("{SHA}\n")).unwrap();
    assert!(resolve(&hub(DEFAULT_MODEL, "main"), &offline(cache.path())).is_ok());
}

#[test]
fn offline_missing_pieces() {
    let (cache, _) = fake_cache(&[CONFIG, TOKENIZER, INDEX, SHARDS[0]]);
    let error = resolve(&hub(DEFAULT_MODEL, "main"), &offline(cache.path())).unwrap_err();
    let message = error.to_string();
    assert!(matches!(&error, HubError::MissingFile { file, .. } if file == SHARDS[1]), "{message}");
    for hint in ["HF_HUB_OFFLINE", "hf download openai/gpt-oss-20b --exclude 'original/*'", "local model directory"] {
        assert!(message.contains(hint), "{message}");
    }

    // Not cached at all, or at another revision.
    let error = resolve(&hub("openai/gpt-oss-120b", "main"), &offline(cache.path())).unwrap_err();
    assert!(matches!(error, HubError::NotCached { .. }), "{error}");
    assert!(error.to_string().contains("hf download openai/gpt-oss-120b --exclude"), "{error}");
    let error = resolve(&hub(DEFAULT_MODEL, "v2"), &offline(cache.path())).unwrap_err();
    assert!(error.to_string().contains("--revision v2"), "{error}");

    // A dangling snapshot link is a missing file.
    #[cfg(unix)]
    {
        let (cache, _) = fake_cache(&[CONFIG, TOKENIZER, SINGLE_WEIGHTS]);
        let blobs = cache.path().join("models--openai--gpt-oss-20b/blobs");
        std::fs::remove_file(blobs.join(format!("{:064x}", 1))).unwrap();
        assert_eq!(missing_file(resolve(&hub(DEFAULT_MODEL, "main"), &offline(cache.path()))), TOKENIZER);
    }
}

#[test]
fn no_cache_dir() {
    let options = HubOptions { offline: true, ..HubOptions::default() };
    assert!(matches!(resolve(&hub(DEFAULT_MODEL, "main"), &options), Err(HubError::NoCacheDir)));
}

#[test]
fn file_names() {
    assert!(is_file_name("model-00001-of-00002.safetensors"));
    for name in ["", ".", "..", "a/b", "/a", "..\\a", "original/model.safetensors"] {
        assert!(!is_file_name(name), "{name}");
    }
}
