//! `producer farm`: what to look at when a nightly job seems stuck. Queue depths from RabbitMQ,
//! the jobs in the blob store, the worker ScaledObject's conditions from KEDA, worker pods by
//! phase and why pending ones wait, from the Kubernetes API; then one line per thing that is
//! obviously wrong. Each part is read on its own: one that cannot be reached is reported with
//! why, beside the others.

use crate::cli::ClusterArgs;
use anyhow::Context;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ApiResource, DynamicObject, ListParams};
use serde::Serialize;
use serde_json::Value;
use shared::amqp::{AmqpOptions, AmqpQueue, DEAD_SUFFIX};
use shared::queue::Queue;
use std::collections::BTreeMap;
use std::time::Duration;

/// A broker or API server that does not answer within this long is reported as unreachable;
/// the command is for someone waiting at a terminal.
const TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Serialize)]
pub struct Report {
    pub namespace: String,
    pub queues: Queues,
    pub blob_store: BlobStore,
    pub kubernetes: Kubernetes,
    /// None when the Kubernetes API could not be read.
    pub scaled_object: Option<ScaledObject>,
    /// None when the Kubernetes API could not be read.
    pub pods: Option<Pods>,
    /// One line per problem, most fundamental first; empty when nothing is obviously wrong.
    pub diagnosis: Vec<String>,
}

#[derive(Debug, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Queues {
    NotConfigured,
    /// Unreachable, refused the login, or refused to count a queue.
    Error {
        error: String,
    },
    /// Ready messages (not those held by consumers) per queue, dead-letter queues included.
    Ok {
        ready: BTreeMap<String, u64>,
    },
}

#[derive(Debug, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum BlobStore {
    NotConfigured,
    /// Missing, refused the credentials, or did not answer.
    Error {
        error: String,
    },
    /// The store and how many jobs it holds.
    Ok {
        url: String,
        jobs: usize,
    },
}

/// Whether the API server could be read; the ScaledObject and the pods are in the report when
/// it could.
#[derive(Debug, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Kubernetes {
    Ok,
    /// No kubeconfig, or the API server refused or did not answer.
    Unreachable {
        error: String,
    },
}

#[derive(Debug, Serialize)]
pub struct ScaledObject {
    pub name: String,
    pub found: bool,
    /// False when the API server does not serve keda.sh/v1alpha1 ScaledObjects at all: KEDA's
    /// CRDs are not installed.
    pub keda_installed: bool,
    /// Ready, Active, Paused, Fallback, as KEDA reports them.
    pub conditions: BTreeMap<String, Condition>,
    pub hpa_name: Option<String>,
    pub original_replica_count: Option<i64>,
    pub last_active_time: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Condition {
    /// "True", "False" or "Unknown".
    pub status: String,
    pub reason: Option<String>,
    pub message: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct Pods {
    pub selector: String,
    /// Every phase is present, zero or not: Pending, Running, Succeeded, Failed, Unknown.
    pub phases: BTreeMap<String, usize>,
    pub pending: Vec<PendingPod>,
}

#[derive(Debug, Serialize)]
pub struct PendingPod {
    pub name: String,
    /// `Unschedulable` from the PodScheduled condition, or a waiting container's reason
    /// (`ImagePullBackOff`, `ContainerCreating`).
    pub reason: Option<String>,
    pub message: Option<String>,
}

const PHASES: [&str; 5] = ["Pending", "Running", "Succeeded", "Failed", "Unknown"];

/// Prints the report (as JSON with `--json`) whatever could be read; fails, after printing
/// it, only when the Kubernetes API could not be read, with why as the error line.
pub async fn check(args: &ClusterArgs) -> anyhow::Result<()> {
    let (queues, blob_store, kube) = tokio::join!(queues(args), blob_store(args), cluster(args));
    let (kubernetes, scaled_object, pods) = match kube {
        Ok((so, pods)) => (Kubernetes::Ok, Some(so), Some(pods)),
        Err(e) => (
            Kubernetes::Unreachable {
                error: format!("{e:#}"),
            },
            None,
            None,
        ),
    };
    let mut report = Report {
        namespace: args.namespace.clone(),
        queues,
        blob_store,
        kubernetes,
        scaled_object,
        pods,
        diagnosis: Vec::new(),
    };
    report.diagnosis = diagnose(&report, &args.remote.task_queue);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_text(&report);
    }
    match report.kubernetes {
        Kubernetes::Ok => Ok(()),
        Kubernetes::Unreachable { error } => Err(anyhow::anyhow!(error)),
    }
}

/// The blob store the jobs are in, as `producer list` opens it (never creating it): how many
/// jobs it holds.
async fn blob_store(args: &ClusterArgs) -> BlobStore {
    let Some(url) = args.remote.conn.blob.as_deref() else {
        return BlobStore::NotConfigured;
    };
    let jobs = async {
        let blobs = crate::remote::blobs(&args.remote)?;
        anyhow::Ok(
            blobs
                .list_folders(shared::protocol::keys::JOBS)
                .await?
                .len(),
        )
    };
    match tokio::time::timeout(TIMEOUT, jobs).await {
        Ok(Ok(jobs)) => BlobStore::Ok {
            url: url.to_string(),
            jobs,
        },
        Ok(Err(e)) => BlobStore::Error {
            error: format!("{e:#}"),
        },
        Err(_) => BlobStore::Error {
            error: format!(
                "the blob store {url} did not answer within {} s",
                TIMEOUT.as_secs()
            ),
        },
    }
}

async fn queues(args: &ClusterArgs) -> Queues {
    let Some(url) = args.remote.conn.amqp.as_deref() else {
        return Queues::NotConfigured;
    };
    // The task queue of every priority level, then the results.
    let mut names: Vec<String> = shared::priority::Priority::ALL
        .iter()
        .map(|p| p.queue(&args.remote.task_queue))
        .collect();
    names.push(args.remote.result_queue.clone());
    let depths = async {
        shared::config::check_amqp_url(url)?;
        // The token is never fired: `TIMEOUT` bounds the whole exchange instead.
        let opts = AmqpOptions {
            connection_name: "producer farm".into(),
            ..AmqpOptions::default()
        };
        let queue = AmqpQueue::connect(url, opts).await?;
        let mut ready = BTreeMap::new();
        let mut result = Ok(());
        for name in names
            .iter()
            .flat_map(|n| [n.to_string(), format!("{n}{DEAD_SUFFIX}")])
        {
            match queue.depth(&name).await {
                Ok(n) => {
                    ready.insert(name, n);
                }
                Err(e) => {
                    result = Err(e);
                    break;
                }
            }
        }
        queue.close().await;
        result?;
        anyhow::Ok(ready)
    };
    match tokio::time::timeout(TIMEOUT, depths).await {
        Ok(Ok(ready)) => Queues::Ok { ready },
        Ok(Err(e)) => Queues::Error {
            error: format!("{e:#}"),
        },
        Err(_) => Queues::Error {
            error: format!(
                "RabbitMQ at {} did not answer within {} s",
                shared::secrets::redact_url(url),
                TIMEOUT.as_secs()
            ),
        },
    }
}

/// The ScaledObject and the worker pods; any failure but a missing ScaledObject is an error,
/// since without the API server there is nothing to report.
async fn cluster(args: &ClusterArgs) -> anyhow::Result<(ScaledObject, Pods)> {
    // kube builds its TLS config from rustls' process-wide provider: make it ring, as everywhere
    // else in Moonfarm, rather than leave it to which rustls features happen to be enabled.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut config = kube::Config::infer()
        .await
        .map_err(one_line)
        .context("no Kubernetes configuration (KUBECONFIG, ~/.kube/config or in-cluster)")?;
    config.connect_timeout = Some(TIMEOUT);
    config.read_timeout = Some(TIMEOUT);
    let server = config.cluster_url.to_string();
    let client = kube::Client::try_from(config).context("building the Kubernetes client")?;
    let reach = |what: String| format!("{what} from the Kubernetes API at {server}");

    let pods: Api<Pod> = Api::namespaced(client.clone(), &args.namespace);
    let list = pods
        .list(&ListParams::default().labels(&args.selector))
        .await
        .map_err(one_line)
        .with_context(|| {
            reach(format!(
                "listing pods `{}` in namespace {}",
                args.selector, args.namespace
            ))
        })?;
    let pods = summarise_pods(&args.selector, &list.items);

    let resource = ApiResource {
        group: "keda.sh".into(),
        version: "v1alpha1".into(),
        api_version: "keda.sh/v1alpha1".into(),
        kind: "ScaledObject".into(),
        plural: "scaledobjects".into(),
    };
    let scaled_objects: Api<DynamicObject> =
        Api::namespaced_with(client, &args.namespace, &resource);
    // A 404 is a finding, not an error. A missing object gets a `Status` with reason NotFound;
    // a path the API server does not serve (KEDA's CRDs not installed) gets a plain-text 404,
    // which kube's `get_opt` does not count as "not found", hence the match on the code.
    let missing = |keda_installed| ScaledObject {
        name: args.scaled_object.clone(),
        found: false,
        keda_installed,
        conditions: BTreeMap::new(),
        hpa_name: None,
        original_replica_count: None,
        last_active_time: None,
    };
    let scaled_object = match scaled_objects.get(&args.scaled_object).await {
        Ok(so) => read_scaled_object(&args.scaled_object, &so.data),
        Err(kube::Error::Api(status)) if status.code == 404 => missing(status.reason == "NotFound"),
        Err(e) => {
            return Err(one_line(e)).with_context(|| {
                reach(format!(
                    "reading ScaledObject {}/{}",
                    args.namespace, args.scaled_object
                ))
            })
        }
    };
    Ok((scaled_object, pods))
}

/// kube's errors repeat their source in their own message ("ServiceError: client error
/// (Connect): client error (Connect): tcp connect error"): keep each part once, in one line.
fn one_line<E: std::error::Error + 'static>(e: E) -> anyhow::Error {
    let mut parts: Vec<String> = Vec::new();
    let mut next: Option<&dyn std::error::Error> = Some(&e);
    while let Some(err) = next {
        let text = err.to_string();
        if !parts.last().is_some_and(|last| last.contains(&text)) {
            parts.push(text);
        }
        next = err.source();
    }
    anyhow::anyhow!(parts.join(": "))
}

fn read_scaled_object(name: &str, data: &Value) -> ScaledObject {
    let status = &data["status"];
    let text = |v: &Value| v.as_str().map(str::to_string);
    let conditions = status["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| {
            let kind = c["type"].as_str()?.to_string();
            let status = text(&c["status"]).unwrap_or_else(|| "Unknown".into());
            Some((
                kind,
                Condition {
                    status,
                    reason: text(&c["reason"]),
                    message: text(&c["message"]),
                },
            ))
        })
        .collect();
    ScaledObject {
        name: name.to_string(),
        found: true,
        keda_installed: true,
        conditions,
        hpa_name: text(&status["hpaName"]),
        original_replica_count: status["originalReplicaCount"].as_i64(),
        last_active_time: text(&status["lastActiveTime"]),
    }
}

fn summarise_pods(selector: &str, pods: &[Pod]) -> Pods {
    let mut phases: BTreeMap<String, usize> = PHASES.iter().map(|p| (p.to_string(), 0)).collect();
    let mut pending = Vec::new();
    for pod in pods {
        let status = pod.status.as_ref();
        let phase = status
            .and_then(|s| s.phase.clone())
            .unwrap_or_else(|| "Unknown".into());
        *phases.entry(phase.clone()).or_default() += 1;
        if phase != "Pending" {
            continue;
        }
        // Not scheduled: the scheduler's reason. Scheduled but not started: the first waiting
        // container's reason (image pull, volume mount).
        let unscheduled = status
            .and_then(|s| s.conditions.as_ref())
            .into_iter()
            .flatten()
            .find(|c| c.type_ == "PodScheduled" && c.status == "False")
            .map(|c| (c.reason.clone(), c.message.clone()));
        let waiting = || {
            status
                .and_then(|s| s.container_statuses.as_ref())
                .into_iter()
                .flatten()
                .find_map(|c| c.state.as_ref()?.waiting.as_ref())
                .map(|w| (w.reason.clone(), w.message.clone()))
        };
        let (reason, message) = unscheduled.or_else(waiting).unwrap_or((None, None));
        pending.push(PendingPod {
            name: pod.metadata.name.clone().unwrap_or_default(),
            reason,
            message,
        });
    }
    Pods {
        selector: selector.to_string(),
        phases,
        pending,
    }
}

/// The problems a person would spot first, most fundamental first.
pub fn diagnose(r: &Report, task_queue: &str) -> Vec<String> {
    let mut out = Vec::new();
    let cond = |kind: &str| r.scaled_object.as_ref()?.conditions.get(kind);
    let is = |kind: &str, value: &str| cond(kind).is_some_and(|c| c.status == value);
    let why = |kind: &str| match cond(kind) {
        Some(Condition {
            reason: Some(reason),
            message: Some(message),
            ..
        }) => format!(" ({reason}: {message})"),
        Some(Condition {
            reason: Some(reason),
            ..
        }) => format!(" ({reason})"),
        _ => String::new(),
    };
    let ready = |name: &str| match &r.queues {
        Queues::Ok { ready } => ready.get(name).copied(),
        _ => None,
    };

    if let Queues::Error { error } = &r.queues {
        out.push(format!(
            "RabbitMQ could not be read, so queue depths are unknown: {error}"
        ));
    }
    if let BlobStore::Error { error } = &r.blob_store {
        out.push(format!("the blob store could not be read: {error}"));
    }
    let (Some(so), Some(pods)) = (&r.scaled_object, &r.pods) else {
        if let Kubernetes::Unreachable { error } = &r.kubernetes {
            out.push(format!("the Kubernetes API could not be read, so the ScaledObject and the worker pods are unknown: {error}"));
        }
        out.extend(dead_letters(r));
        return out;
    };
    if !so.keda_installed {
        out.push(
            "the API server does not serve KEDA ScaledObjects (keda.sh/v1alpha1): KEDA is not installed, so nothing scales the workers (deploy/terraform enables the AKS KEDA add-on)"
                .to_string(),
        );
    } else if !so.found {
        out.push(format!(
            "ScaledObject {}/{} not found: nothing scales the workers (manifests not applied, KEDA not installed, another name: --scaled-object, or the ScaledJob variant, which this command does not read)",
            r.namespace, so.name
        ));
    } else {
        if !is("Ready", "True") {
            out.push(format!(
                "ScaledObject {} is not Ready{}: KEDA cannot read its trigger; `kubectl -n kube-system logs -l app=keda-operator` shows why",
                so.name,
                why("Ready")
            ));
        }
        if is("Paused", "True") {
            out.push(format!(
                "ScaledObject {} is paused{}: workers will not scale",
                so.name,
                why("Paused")
            ));
        }
        if is("Fallback", "True") {
            out.push(format!(
                "ScaledObject {} is in fallback{}: its scaler is failing",
                so.name,
                why("Fallback")
            ));
        }
        // Queued at any level: KEDA scales on their sum.
        let queued: u64 = shared::priority::Priority::ALL
            .iter()
            .filter_map(|p| ready(&p.queue(task_queue)))
            .sum();
        if queued > 0 && !is("Active", "True") {
            out.push(format!("{queued} tasks queued but ScaledObject {} is not Active{}: KEDA is not scaling workers up", so.name, why("Active")));
        }
        let running_or_pending = pods.phases["Running"] + pods.phases["Pending"];
        if queued > 0 && is("Active", "True") && running_or_pending == 0 {
            let hpa = so.hpa_name.as_deref().unwrap_or("its HPA");
            out.push(format!("{queued} tasks queued and ScaledObject Active, but no worker pods: check `kubectl -n {} describe hpa {hpa}`", r.namespace));
        }
    }
    let unschedulable: Vec<_> = pods
        .pending
        .iter()
        .filter(|p| p.reason.as_deref() == Some("Unschedulable"))
        .collect();
    if let Some(first) = unschedulable.first() {
        out.push(format!(
            "{} worker pods Pending, unschedulable: {}: the spot pool is full or cannot grow (deploy/README.md, Sizing)",
            unschedulable.len(),
            first.message.as_deref().unwrap_or("no message")
        ));
    }
    let cannot_pull: Vec<_> = pods
        .pending
        .iter()
        .filter(|p| {
            matches!(
                p.reason.as_deref(),
                Some("ImagePullBackOff" | "ErrImagePull")
            )
        })
        .collect();
    if let Some(first) = cannot_pull.first() {
        out.push(format!(
            "{} worker pods cannot pull their image: {}",
            cannot_pull.len(),
            first
                .message
                .as_deref()
                .or(first.reason.as_deref())
                .unwrap_or("")
        ));
    }
    out.extend(dead_letters(r));
    out
}

/// One line per dead-letter queue that holds messages.
fn dead_letters(r: &Report) -> Vec<String> {
    let Queues::Ok { ready } = &r.queues else {
        return Vec::new();
    };
    ready
        .iter()
        .filter(|(name, n)| name.ends_with(DEAD_SUFFIX) && **n > 0)
        .map(|(name, n)| format!("{n} messages dead-lettered in {name}: they failed on every delivery; the worker logs say why"))
        .collect()
}

fn print_text(r: &Report) {
    println!("namespace       {}", r.namespace);
    match &r.queues {
        Queues::NotConfigured => {
            println!("queues          not configured (set MOONFARM_AMQP_URL or --amqp)")
        }
        Queues::Error { error } => println!("queues          error: {error}"),
        Queues::Ok { ready } => {
            for (name, n) in ready {
                println!("queue           {name:<24} {n:>6} ready");
            }
        }
    }
    match &r.blob_store {
        BlobStore::NotConfigured => {
            println!("blob store      not configured (set MOONFARM_BLOB_URL or --blob)")
        }
        BlobStore::Error { error } => println!("blob store      error: {error}"),
        BlobStore::Ok { url, jobs } => println!("blob store      {url}: {jobs} jobs"),
    }
    let (Some(so), Some(pods)) = (&r.scaled_object, &r.pods) else {
        if let Kubernetes::Unreachable { error } = &r.kubernetes {
            println!("kubernetes      unreachable: {error}");
        }
        print_diagnosis(r);
        return;
    };
    if so.found {
        println!("scaledobject    {}", so.name);
        for (kind, c) in &so.conditions {
            let reason = c
                .reason
                .as_deref()
                .map(|s| format!(" {s}"))
                .unwrap_or_default();
            let message = c
                .message
                .as_deref()
                .map(|s| format!(": {s}"))
                .unwrap_or_default();
            println!("  {kind:<13} {}{reason}{message}", c.status);
        }
        if let Some(hpa) = &so.hpa_name {
            println!("  hpa           {hpa}");
        }
        if let Some(t) = &so.last_active_time {
            println!("  last active   {t}");
        }
        if let Some(n) = so.original_replica_count {
            println!("  original replicas {n}");
        }
    } else if !so.keda_installed {
        println!("scaledobject    {} unknown: KEDA is not installed", so.name);
    } else {
        println!("scaledobject    {} not found", so.name);
    }
    let phases: Vec<_> = PHASES
        .iter()
        .map(|p| format!("{} {p}", pods.phases.get(*p).copied().unwrap_or(0)))
        .collect();
    println!("worker pods     {} ({})", phases.join(", "), pods.selector);
    for p in &pods.pending {
        println!(
            "  pending {}: {}: {}",
            p.name,
            p.reason.as_deref().unwrap_or("?"),
            p.message.as_deref().unwrap_or("")
        );
    }
    print_diagnosis(r);
}

fn print_diagnosis(r: &Report) {
    if r.diagnosis.is_empty() {
        println!("diagnosis       nothing obviously wrong");
    }
    for d in &r.diagnosis {
        println!("diagnosis       {d}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(ready: &[(&str, u64)], so: Value, pods: Value) -> Report {
        let pods: Vec<Pod> = serde_json::from_value(pods).unwrap();
        Report {
            namespace: "moonfarm".into(),
            queues: Queues::Ok {
                ready: ready.iter().map(|(n, d)| (n.to_string(), *d)).collect(),
            },
            blob_store: BlobStore::NotConfigured,
            kubernetes: Kubernetes::Ok,
            scaled_object: Some(read_scaled_object("moonfarm-worker", &so)),
            pods: Some(summarise_pods(
                "app.kubernetes.io/name=moonfarm-worker",
                &pods,
            )),
            diagnosis: Vec::new(),
        }
    }

    fn so(active: &str, reason: &str) -> Value {
        serde_json::json!({"status": {"conditions": [
            {"type": "Ready", "status": "True", "reason": "ScaledObjectReady"},
            {"type": "Active", "status": active, "reason": reason},
        ]}})
    }

    #[test]
    fn queued_tasks_with_an_inactive_scaled_object_are_diagnosed() {
        let r = report(
            // Queued at every level: the diagnosis counts their sum, as KEDA does.
            &[
                ("moonfarm.tasks.interactive", 2),
                ("moonfarm.tasks", 7),
                ("moonfarm.tasks.batch", 3),
                ("moonfarm.tasks.dead", 0),
            ],
            so("False", "ScalerNotActive"),
            serde_json::json!([]),
        );
        let d = diagnose(&r, "moonfarm.tasks");
        assert_eq!(d.len(), 1, "{d:?}");
        assert!(
            d[0].starts_with(
                "12 tasks queued but ScaledObject moonfarm-worker is not Active (ScalerNotActive)"
            ),
            "{d:?}"
        );
    }

    #[test]
    fn an_empty_queue_with_an_inactive_scaled_object_is_fine_and_dead_letters_are_not() {
        let r = report(
            &[("moonfarm.tasks", 0), ("moonfarm.tasks.dead", 3)],
            so("False", "ScalerNotActive"),
            serde_json::json!([]),
        );
        assert_eq!(diagnose(&r, "moonfarm.tasks"), vec!["3 messages dead-lettered in moonfarm.tasks.dead: they failed on every delivery; the worker logs say why"]);
        let r = report(
            &[("moonfarm.tasks", 0)],
            so("False", "ScalerNotActive"),
            serde_json::json!([]),
        );
        assert!(diagnose(&r, "moonfarm.tasks").is_empty());
    }

    #[test]
    fn a_scheduled_pending_pod_reports_its_waiting_container() {
        let pods = serde_json::json!([{"metadata": {"name": "w-1"}, "status": {"phase": "Pending",
            "conditions": [{"type": "PodScheduled", "status": "True"}],
            "containerStatuses": [{"name": "worker", "image": "x", "imageID": "", "ready": false, "restartCount": 0,
                "state": {"waiting": {"reason": "ImagePullBackOff", "message": "Back-off pulling image \"x\""}}}]}}]);
        let r = report(&[("moonfarm.tasks", 1)], so("True", "ScalerActive"), pods);
        assert_eq!(
            r.pods.as_ref().unwrap().pending[0].reason.as_deref(),
            Some("ImagePullBackOff")
        );
        assert_eq!(
            diagnose(&r, "moonfarm.tasks"),
            vec!["1 worker pods cannot pull their image: Back-off pulling image \"x\""]
        );
    }
}
