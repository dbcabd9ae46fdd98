//! `producer farm` against a stand-in Kubernetes API server on 127.0.0.1 that answers with
//! recorded API responses (fixtures/k8s), at the real paths, for the real binary pointed at it
//! by a kubeconfig. Without MOONFARM_AMQP_URL, so the queues read "not configured".

use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use axum::http::{header, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

fn fixture(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/it/fixtures/k8s")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// What the stand-in API server knows: the namespace and selector it expects, and the
/// ScaledObject it holds.
struct Cluster {
    namespace: &'static str,
    selector: &'static str,
    scaled_object: (&'static str, Keda),
}

impl Cluster {
    /// The names the manifests in deploy/ use, with this answer for the ScaledObject.
    fn moonfarm(keda: Keda) -> Cluster {
        Cluster {
            namespace: "moonfarm",
            selector: "app.kubernetes.io/name=moonfarm-worker",
            scaled_object: ("moonfarm-worker", keda),
        }
    }
}

enum Keda {
    ScaledObject(Value),
    /// KEDA installed, no ScaledObject of that name: a `Status` 404.
    NoScaledObject,
    /// No KEDA CRDs: the path is not served at all, a plain-text 404.
    NotInstalled,
}

struct FakeApi {
    port: u16,
    /// Every request's path and query, in order.
    requests: Arc<Mutex<Vec<String>>>,
    /// Owns the server task; dropped at the end of the test.
    _runtime: tokio::runtime::Runtime,
}

fn json(code: StatusCode, v: &Value) -> Response {
    (
        code,
        [(header::CONTENT_TYPE, "application/json")],
        v.to_string(),
    )
        .into_response()
}

/// Percent-decodes a query value (kube form-encodes the label selector).
fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 2 < b.len() => {
                out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap()
}

/// The kube-apiserver's answer to a path it does not serve.
fn not_found(what: &str, name: &str) -> Response {
    json(
        StatusCode::NOT_FOUND,
        &serde_json::json!({
            "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": format!("{what}.keda.sh \"{name}\" not found"), "reason": "NotFound",
            "details": {"name": name, "group": "keda.sh", "kind": what}, "code": 404
        }),
    )
}

fn serve(cluster: Cluster) -> FakeApi {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let port = listener.local_addr().unwrap().port();
    let requests = Arc::new(Mutex::new(Vec::new()));
    let log = requests.clone();
    let cluster = Arc::new(cluster);
    let pods = fixture("pods.json");
    let handler = move |uri: Uri| {
        let (cluster, pods, log) = (cluster.clone(), pods.clone(), log.clone());
        async move {
            log.lock().unwrap().push(uri.to_string());
            let query = uri.query().unwrap_or("");
            let selector = query
                .split('&')
                .find_map(|kv| kv.strip_prefix("labelSelector="))
                .map(decode)
                .unwrap_or_default();
            let ns = cluster.namespace;
            let (so_name, so) = &cluster.scaled_object;
            if uri.path() == format!("/api/v1/namespaces/{ns}/pods") {
                if selector != cluster.selector {
                    return json(
                        StatusCode::BAD_REQUEST,
                        &serde_json::json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "message": format!("unexpected labelSelector `{selector}`"), "reason": "BadRequest", "code": 400}),
                    );
                }
                return json(StatusCode::OK, &pods);
            }
            if uri.path()
                == format!("/apis/keda.sh/v1alpha1/namespaces/{ns}/scaledobjects/{so_name}")
            {
                match so {
                    Keda::ScaledObject(so) => return json(StatusCode::OK, so),
                    Keda::NoScaledObject => return not_found("scaledobjects", so_name),
                    Keda::NotInstalled => {}
                }
            }
            (StatusCode::NOT_FOUND, "404 page not found\n").into_response()
        }
    };
    let app = axum::Router::new().fallback(handler);
    runtime.spawn(async move { axum::serve(listener, app).await.unwrap() });
    FakeApi {
        port,
        requests,
        _runtime: runtime,
    }
}

/// Runs `producer farm ARGS` with a kubeconfig naming `server` and no credentials.
fn farm(server: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("config");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: recorded\n  cluster:\n    server: {server}\n\
             contexts:\n- name: recorded\n  context:\n    cluster: recorded\n    user: nobody\n\
             current-context: recorded\nusers:\n- name: nobody\n  user: {{}}\n"
        ),
    )
    .unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_producer"));
    cmd.arg("farm")
        .args(args)
        .env("KUBECONFIG", &kubeconfig)
        .env("HOME", dir.path());
    for var in [
        "MOONFARM_AMQP_URL",
        "MOONFARM_BLOB_URL",
        "MOONFARM_NAMESPACE",
        "MOONFARM_WORKER_SELECTOR",
        "MOONFARM_SCALED_OBJECT",
        "KUBERNETES_SERVICE_HOST",
    ] {
        cmd.env_remove(var);
    }
    cmd.envs(env.iter().copied());
    cmd.output().expect("the producer binary runs")
}

fn parse(o: &Output) -> Value {
    assert!(
        o.status.success(),
        "exit {:?}\nstderr: {}",
        o.status,
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&o.stdout)))
}

/// The defaults are the manifests' names: if these fail, update ClusterArgs with them.
#[test]
fn farm_defaults_are_the_manifests_names() {
    let repo = testkit::paths::root();
    let read = |p: &str| std::fs::read_to_string(repo.join(p)).unwrap();
    assert!(read("deploy/k8s/namespace.yaml").contains("  name: moonfarm\n"));
    let worker = read("deploy/k8s/worker-deployment.yaml");
    assert!(
        worker.contains("      app.kubernetes.io/name: moonfarm-worker\n"),
        "selector.matchLabels"
    );
    let so = read("deploy/keda/worker-scaledobject.yaml");
    assert!(so.contains("kind: ScaledObject\nmetadata:\n  name: moonfarm-worker\n"));
}

#[test]
fn farm_reports_pods_by_phase_the_unschedulable_reason_and_the_scaled_object() {
    let api = serve(Cluster::moonfarm(Keda::ScaledObject(fixture(
        "scaledobject.json",
    ))));
    let server = format!("http://127.0.0.1:{}", api.port);
    let v = parse(&farm(&server, &["--json"], &[]));

    assert_eq!(v["namespace"], "moonfarm");
    assert_eq!(v["queues"]["status"], "not_configured");
    let phases = &v["pods"]["phases"];
    assert_eq!(
        (phases["Running"].as_u64(), phases["Pending"].as_u64()),
        (Some(2), Some(2)),
        "{phases}"
    );
    assert_eq!(
        (phases["Succeeded"].as_u64(), phases["Failed"].as_u64()),
        (Some(0), Some(0)),
        "{phases}"
    );
    let pending = v["pods"]["pending"].as_array().unwrap();
    assert_eq!(pending.len(), 2);
    assert_eq!(pending[0]["name"], "moonfarm-worker-6b8f9d7c54-9tqvd");
    assert_eq!(pending[0]["reason"], "Unschedulable");
    assert!(pending[0]["message"].as_str().unwrap().starts_with("0/3 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 2 Insufficient cpu."));

    let so = &v["scaled_object"];
    assert_eq!(so["found"], true);
    assert_eq!(so["conditions"]["Ready"]["status"], "True");
    assert_eq!(so["conditions"]["Active"]["status"], "True");
    assert_eq!(so["conditions"]["Active"]["reason"], "ScalerActive");
    assert_eq!(so["conditions"]["Paused"]["status"], "False");
    assert_eq!(so["conditions"]["Fallback"]["reason"], "NoFallbackFound");
    assert_eq!(so["hpa_name"], "keda-hpa-moonfarm-worker");
    assert_eq!(so["original_replica_count"], 1);
    assert_eq!(so["last_active_time"], "2026-11-27T02:14:05Z");

    let diagnosis: Vec<&str> = v["diagnosis"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap())
        .collect();
    assert_eq!(
        diagnosis,
        ["2 worker pods Pending, unschedulable: 0/3 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 2 Insufficient cpu. preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod.: the spot pool is full or cannot grow (deploy/README.md, Sizing)"]
    );
    let requests = api.requests.lock().unwrap().clone();
    assert!(
        requests
            .iter()
            .any(|r| r.starts_with("/api/v1/namespaces/moonfarm/pods?")),
        "{requests:?}"
    );
    assert!(
        requests.contains(
            &"/apis/keda.sh/v1alpha1/namespaces/moonfarm/scaledobjects/moonfarm-worker".to_string()
        ),
        "{requests:?}"
    );

    // The same, for a person.
    let o = farm(&server, &[], &[]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        text.contains("queues          not configured (set MOONFARM_AMQP_URL or --amqp)"),
        "{text}"
    );
    assert!(
        text.contains("worker pods     2 Pending, 2 Running, 0 Succeeded, 0 Failed, 0 Unknown"),
        "{text}"
    );
    assert!(
        text.contains(
            "  Active        True ScalerActive: Scaling is performed because triggers are active"
        ),
        "{text}"
    );
    assert!(
        text.contains("diagnosis       2 worker pods Pending, unschedulable: 0/3 nodes"),
        "{text}"
    );
}

#[test]
fn farm_says_so_when_the_scaled_object_is_missing() {
    // Flags and variables reach the API paths: another namespace, selector and name.
    let api = serve(Cluster {
        namespace: "nightly",
        selector: "app=render",
        scaled_object: ("render-worker", Keda::NoScaledObject),
    });
    let server = format!("http://127.0.0.1:{}", api.port);
    let o = farm(
        &server,
        &[
            "--json",
            "--selector",
            "app=render",
            "--scaled-object",
            "render-worker",
        ],
        &[("MOONFARM_NAMESPACE", "nightly")],
    );
    let v = parse(&o);
    assert_eq!(v["scaled_object"]["found"], false);
    assert_eq!(v["scaled_object"]["keda_installed"], true);
    assert_eq!(v["pods"]["phases"]["Running"], 2);
    let diagnosis = v["diagnosis"].as_array().unwrap();
    assert!(
        diagnosis[0].as_str().unwrap().starts_with(
            "ScaledObject nightly/render-worker not found: nothing scales the workers"
        ),
        "{diagnosis:?}"
    );
    let requests = api.requests.lock().unwrap().clone();
    assert!(
        requests.contains(
            &"/apis/keda.sh/v1alpha1/namespaces/nightly/scaledobjects/render-worker".to_string()
        ),
        "{requests:?}"
    );
}

#[test]
fn farm_says_so_when_keda_is_not_installed() {
    let api = serve(Cluster::moonfarm(Keda::NotInstalled));
    let v = parse(&farm(
        &format!("http://127.0.0.1:{}", api.port),
        &["--json"],
        &[],
    ));
    assert_eq!(
        (
            &v["scaled_object"]["found"],
            &v["scaled_object"]["keda_installed"]
        ),
        (&Value::Bool(false), &Value::Bool(false))
    );
    let diagnosis = v["diagnosis"].as_array().unwrap();
    assert!(
        diagnosis[0].as_str().unwrap().starts_with("the API server does not serve KEDA ScaledObjects (keda.sh/v1alpha1): KEDA is not installed"),
        "{diagnosis:?}"
    );
}

#[test]
fn farm_reports_an_unreachable_broker_and_still_the_cluster() {
    let api = serve(Cluster::moonfarm(Keda::ScaledObject(fixture(
        "scaledobject.json",
    ))));
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let amqp = format!("amqp://moonfarm:secret@127.0.0.1:{port}/%2f");
    let v = parse(&farm(
        &format!("http://127.0.0.1:{}", api.port),
        &["--json"],
        &[("MOONFARM_AMQP_URL", &amqp)],
    ));
    assert_eq!(v["queues"]["status"], "error");
    let error = v["queues"]["error"].as_str().unwrap();
    assert!(
        error.contains(&format!("127.0.0.1:{port}")) && !error.contains("secret"),
        "{error}"
    );
    assert_eq!(v["pods"]["phases"]["Pending"], 2);
    let diagnosis = v["diagnosis"].as_array().unwrap();
    assert!(diagnosis[0].as_str().unwrap().starts_with("RabbitMQ could not be read, so queue depths are unknown: queue connection: cannot connect to RabbitMQ at amqp://moonfarm:***@127.0.0.1:"), "{diagnosis:?}");
    assert_eq!(diagnosis.len(), 2, "{diagnosis:?}");
}

/// The report is printed all the same (`--json`: JSON), the API server's part as unreachable
/// with why; the command fails with that reason as its one error line.
#[test]
fn farm_fails_in_one_line_when_the_api_server_is_unreachable() {
    // A port that was just free: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let o = farm(&format!("http://127.0.0.1:{port}"), &["--json"], &[]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    let why = "listing pods `app.kubernetes.io/name=moonfarm-worker` in namespace moonfarm from the Kubernetes API at http://127.0.0.1:";
    assert!(stderr.starts_with(&format!("error: {why}")), "{stderr}");
    let v: Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&o.stdout)));
    assert_eq!(v["kubernetes"]["status"], "unreachable");
    assert!(
        v["kubernetes"]["error"].as_str().unwrap().starts_with(why),
        "{v}"
    );
    assert_eq!(v["queues"]["status"], "not_configured");
    assert_eq!(v["blob_store"]["status"], "not_configured");
    assert!(v["pods"].is_null(), "{v}");
}
