//! Downloads from a fake hub: a thread serving the listing API and file
//! `GET`s (with `Range`) over a local socket, with faults to inject.

use std::net::TcpListener;

use super::fake_hub::*;
use super::*;

/// ureq reads proxies from the environment and ignores NO_PROXY: with
/// one set, requests to the fake hub would go to the proxy.
fn proxied() -> bool {
    let set = ["ALL_PROXY", "all_proxy", "HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"]
        .iter()
        .any(|name| std::env::var_os(name).is_some());
    if set {
        eprintln!("skipped: a proxy variable is set, and the fake hub is local");
    }
    set
}

fn online(cache: &Path, hub: &FakeHub) -> HubOptions {
    HubOptions {
        offline: false,
        cache_dir: Some(cache.into()),
        token: None,
        endpoint: hub.endpoint.clone(),
        progress: false,
    }
}

fn gpt_oss() -> ModelSource {
    ModelSource::Hub { repo: DEFAULT_MODEL.into(), revision: DEFAULT_REVISION.into() }
}

fn repo_dir(cache: &Path) -> PathBuf {
    cache.join("models--openai--gpt-oss-20b")
}

fn shard(files: &[RepoFile], i: usize) -> &RepoFile {
    files.iter().find(|f| f.name == SHARDS[i]).unwrap()
}

/// Leaves the cache as a run killed `len` bytes into shard 0 leaves it.
fn kill_shard_download(cache: &Path, files: &[RepoFile], len: usize) -> PathBuf {
    let file = shard(files, 0);
    let blobs = repo_dir(cache).join("blobs");
    std::fs::remove_file(blobs.join(&file.etag)).unwrap();
    std::fs::remove_file(repo_dir(cache).join("snapshots").join(COMMIT).join(SHARDS[0])).unwrap();
    let part = blobs.join(format!("{}.part", file.etag));
    std::fs::write(&part, &file.data[..len]).unwrap();
    part
}

fn assert_complete(dir: &Path, files: &[RepoFile]) {
    for file in files.iter().filter(|f| WANTED.contains(&f.name.as_str())) {
        let got = std::fs::read(dir.join(&file.name)).unwrap();
        assert!(got == file.data, "{} differs: {} bytes, {} expected", file.name, got.len(), file.data.len());
    }
}

#[test]
fn downloads_only_what_the_model_needs() {
    if proxied() {
        return;
    }
    let hub = FakeHub::start(COMMIT, repo_files());
    let cache = tempfile::tempdir().unwrap();
    let model = resolve(&gpt_oss(), &online(cache.path(), &hub)).unwrap();
    let snapshot = repo_dir(cache.path()).join("snapshots").join(COMMIT);
    assert_eq!(model, ResolvedModel { dir: snapshot.clone(), id: DEFAULT_MODEL.into(), commit: Some(COMMIT.into()) });
    let files = repo_files();
    assert_complete(&snapshot, &files);
    for name in UNWANTED {
        assert!(!snapshot.join(name).exists(), "{name} was downloaded");
        assert!(hub.requests().iter().all(|r| !r.path.ends_with(name)), "{name} was requested");
    }
    // Downloads are at the listed commit; refs as huggingface_hub writes them.
    assert!(hub.requests().iter().skip(1).all(|r| r.path.contains(&format!("/resolve/{COMMIT}/"))));
    let refs = repo_dir(cache.path()).join("refs");
    assert_eq!(std::fs::read_to_string(refs.join("main")).unwrap(), COMMIT);
    assert!(!refs.join(COMMIT).exists());
    #[cfg(unix)]
    {
        let link = std::fs::read_link(snapshot.join(SHARDS[0])).unwrap();
        assert_eq!(link, Path::new("../../blobs").join(&shard(&files, 0).etag));
    }
    assert_eq!(first_missing(&snapshot).unwrap(), None);

    // Found offline, and online with one listing request and no download.
    let options = online(cache.path(), &hub);
    assert_eq!(resolve(&gpt_oss(), &HubOptions { offline: true, ..options.clone() }).unwrap(), model);
    let before = hub.requests().len();
    assert_eq!(resolve(&gpt_oss(), &options).unwrap(), model);
    let after = hub.requests();
    assert_eq!(after.len(), before + 1);
    assert!(after[before].path.starts_with("/api/models/"));
}

#[test]
fn resumes_a_killed_download() {
    if proxied() {
        return;
    }
    let hub = FakeHub::start(COMMIT, repo_files());
    let cache = tempfile::tempdir().unwrap();
    let files = repo_files();
    resolve(&gpt_oss(), &online(cache.path(), &hub)).unwrap();
    let part = kill_shard_download(cache.path(), &files, 123_457);
    let model = resolve(&gpt_oss(), &online(cache.path(), &hub)).unwrap();
    assert_eq!(hub.ranges(SHARDS[0]), ["bytes=0-", "bytes=123457-"]);
    assert_complete(&model.dir, &files);
    assert!(!part.exists());
}

#[test]
fn resumes_a_cut_connection_in_place_and_across_runs() {
    if proxied() {
        return;
    }
    let hub = FakeHub::start(COMMIT, repo_files());
    let cache = tempfile::tempdir().unwrap();
    let files = repo_files();
    // Every response for shard 0 stops after 40 000 bytes: hf-hub resumes
    // it in place, then gives up, keeping what arrived.
    hub.faults.lock().unwrap().cut = Some((SHARDS[0].into(), 40_000, usize::MAX));
    let error = resolve(&gpt_oss(), &online(cache.path(), &hub)).unwrap_err();
    assert!(matches!(error, HubError::Download { ref file, .. } if file == SHARDS[0]), "{error}");
    assert!(error.to_string().contains("resumes"), "{error}");
    let ranges = hub.ranges(SHARDS[0]);
    assert!(ranges.len() > RETRIES, "{ranges:?}");
    for (i, range) in ranges.iter().enumerate() {
        assert_eq!(range, &format!("bytes={}-", i * 40_000));
    }
    let part = repo_dir(cache.path()).join("blobs").join(format!("{}.part", shard(&files, 0).etag));
    let kept = std::fs::metadata(&part).unwrap().len();
    assert_eq!(kept as usize, ranges.len() * 40_000);
    // refs/main is written only once the snapshot is complete.
    assert!(!repo_dir(cache.path()).join("refs").join("main").exists());

    hub.faults.lock().unwrap().cut = None;
    let model = resolve(&gpt_oss(), &online(cache.path(), &hub)).unwrap();
    assert_eq!(hub.ranges(SHARDS[0]).last(), Some(&format!("bytes={kept}-")));
    assert_complete(&model.dir, &files);
}

#[test]
fn a_failed_resume_request_resumes_again() {
    if proxied() {
        return;
    }
    let hub = FakeHub::start(COMMIT, repo_files());
    let cache = tempfile::tempdir().unwrap();
    let files = repo_files();
    resolve(&gpt_oss(), &online(cache.path(), &hub)).unwrap();
    kill_shard_download(cache.path(), &files, 100_000);
    hub.faults.lock().unwrap().fail = Some((SHARDS[0].into(), 503));
    let model = resolve(&gpt_oss(), &online(cache.path(), &hub)).unwrap();
    // hf-hub's own retry would have asked for bytes=0- and appended.
    assert_eq!(hub.ranges(SHARDS[0]), ["bytes=0-", "bytes=100000-", "bytes=100000-"]);
    assert_complete(&model.dir, &files);

    // A client error is not retried.
    kill_shard_download(cache.path(), &files, 100_000);
    hub.faults.lock().unwrap().fail = Some((SHARDS[0].into(), 403));
    let error = resolve(&gpt_oss(), &online(cache.path(), &hub)).unwrap_err();
    assert!(matches!(error, HubError::AccessDenied { status: 403, .. }), "{error}");
    assert_eq!(hub.ranges(SHARDS[0]).len(), 4);
}

#[test]
fn a_server_ignoring_range_does_not_corrupt_the_file() {
    if proxied() {
        return;
    }
    let hub = FakeHub::start(COMMIT, repo_files());
    let cache = tempfile::tempdir().unwrap();
    let files = repo_files();
    resolve(&gpt_oss(), &online(cache.path(), &hub)).unwrap();
    kill_shard_download(cache.path(), &files, 100_000);
    hub.faults.lock().unwrap().ignore_range = Some(SHARDS[0].into());
    let model = resolve(&gpt_oss(), &online(cache.path(), &hub)).unwrap();
    // hf-hub appended the whole file to the part; it was caught and fetched again.
    assert_eq!(hub.ranges(SHARDS[0]), ["bytes=0-", "bytes=100000-", "bytes=0-"]);
    assert_complete(&model.dir, &files);
}

#[test]
fn a_complete_or_overlong_part_file_starts_over() {
    if proxied() {
        return;
    }
    let hub = FakeHub::start(COMMIT, repo_files());
    let cache = tempfile::tempdir().unwrap();
    let files = repo_files();
    resolve(&gpt_oss(), &online(cache.path(), &hub)).unwrap();
    let size = shard(&files, 0).data.len();
    for extra in [0, 10] {
        let part = kill_shard_download(cache.path(), &files, size);
        let mut data = std::fs::read(&part).unwrap();
        data.extend(std::iter::repeat_n(7, extra));
        std::fs::write(&part, data).unwrap();
        let model = resolve(&gpt_oss(), &online(cache.path(), &hub)).unwrap();
        assert_eq!(hub.ranges(SHARDS[0]).last().map(String::as_str), Some("bytes=0-"));
        assert_complete(&model.dir, &files);
    }
}

#[test]
fn a_new_commit_reuses_unchanged_blobs() {
    if proxied() {
        return;
    }
    let cache = tempfile::tempdir().unwrap();
    let files = repo_files();
    let old = FakeHub::start(COMMIT, repo_files());
    resolve(&gpt_oss(), &online(cache.path(), &old)).unwrap();
    let new_commit = "fedcba9876543210fedcba9876543210fedcba98";
    let new = FakeHub::start(new_commit, repo_files());
    let model = resolve(&gpt_oss(), &online(cache.path(), &new)).unwrap();
    assert_eq!(model.commit.as_deref(), Some(new_commit));
    assert!(new.requests().iter().all(|r| !r.path.contains("safetensors")), "weights downloaded again");
    assert_complete(&model.dir, &files);
    let refs = repo_dir(cache.path()).join("refs").join("main");
    assert_eq!(std::fs::read_to_string(refs).unwrap(), new_commit);
}

#[test]
fn incomplete_repos_fail_before_downloading_weights() {
    if proxied() {
        return;
    }
    let cache = tempfile::tempdir().unwrap();
    let no_tokenizer: Vec<_> = repo_files().into_iter().filter(|f| f.name != TOKENIZER).collect();
    let hub = FakeHub::start(COMMIT, no_tokenizer);
    let error = resolve(&gpt_oss(), &online(cache.path(), &hub)).unwrap_err();
    assert!(matches!(error, HubError::IncompleteRepo { ref file, .. } if file == TOKENIZER), "{error}");
    assert_eq!(hub.requests().len(), 1);

    let no_shard: Vec<_> = repo_files().into_iter().filter(|f| f.name != SHARDS[1]).collect();
    let hub = FakeHub::start(COMMIT, no_shard);
    let error = resolve(&gpt_oss(), &online(cache.path(), &hub)).unwrap_err();
    assert!(matches!(error, HubError::IncompleteRepo { ref file, .. } if file == SHARDS[1]), "{error}");
    assert!(hub.ranges(SHARDS[0]).is_empty());
}

#[test]
fn hub_errors_say_what_to_do() {
    if proxied() {
        return;
    }
    let cache = tempfile::tempdir().unwrap();
    let hub = FakeHub::start(COMMIT, repo_files());
    let mut options = online(cache.path(), &hub);
    options.token = Some("hf_secret".into());
    hub.faults.lock().unwrap().listing = Some((401, "GatedRepo"));
    let error = resolve(&gpt_oss(), &options).unwrap_err();
    assert!(matches!(error, HubError::AccessDenied { status: 401, .. }), "{error}");
    assert!(error.to_string().contains("HF_TOKEN"), "{error}");
    assert_eq!(hub.requests()[0].auth, "Bearer hf_secret");

    options.token = None;
    hub.faults.lock().unwrap().listing = Some((403, ""));
    let error = resolve(&gpt_oss(), &options).unwrap_err().to_string();
    assert!(error.contains("gated or private") && error.contains("set HF_TOKEN"), "{error}");

    hub.faults.lock().unwrap().listing = Some((401, "RepoNotFound"));
    let error = resolve(&gpt_oss(), &options).unwrap_err();
    assert!(matches!(error, HubError::RepoNotFound { .. }), "{error}");
    assert!(error.to_string().contains("./openai/gpt-oss-20b"), "{error}");

    hub.faults.lock().unwrap().listing = Some((404, "RevisionNotFound"));
    let v9 = ModelSource::Hub { repo: DEFAULT_MODEL.into(), revision: "v9".into() };
    let error = resolve(&v9, &options).unwrap_err();
    assert!(matches!(error, HubError::RevisionNotFound { ref revision, .. } if revision == "v9"), "{error}");
}

#[test]
fn no_network_names_the_endpoint_and_the_cache() {
    if proxied() {
        return;
    }
    let dead = TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", dead.local_addr().unwrap());
    drop(dead);
    let cache = tempfile::tempdir().unwrap();
    let options =
        HubOptions { cache_dir: Some(cache.path().into()), endpoint: endpoint.clone(), ..HubOptions::default() };
    let error = resolve(&gpt_oss(), &options).unwrap_err();
    let message = error.to_string();
    assert!(matches!(error, HubError::Network { .. }), "{message}");
    assert!(message.contains(&endpoint) && !message.contains("HF_HUB_OFFLINE"), "{message}");

    let hub = FakeHub::start(COMMIT, repo_files());
    resolve(&gpt_oss(), &online(cache.path(), &hub)).unwrap();
    let message = resolve(&gpt_oss(), &options).unwrap_err().to_string();
    assert!(message.contains("HF_HUB_OFFLINE=1"), "{message}");
}
