//! Encrypted transport (issue 11): one job over `amqps://` to a RabbitMQ node that speaks only
//! TLS (`scripts/rabbit-tls.sh`, 127.0.0.1:5671) and `https://` to an Azurite that serves only
//! https (127.0.0.1:10010), both with certificates of the throwaway test CA
//! (`scripts/test-ca.sh`; `scripts/services.sh` starts all of it). Every process verifies the
//! certificates against the CA that `MOONFARM_TLS_CA_FILE` names; trusting another CA, or only
//! the system's roots, is a clear error that publishes and stores nothing.

use super::*;

const AMQPS: &str = "amqps://guest:guest@localhost:5671/%2f";
const HTTPS: &str = "https://127.0.0.1:10010";

fn ca_dir() -> PathBuf {
    std::env::var_os("MOONFARM_TEST_CA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/tmp/moonfarm-test-ca"))
}

/// A farm whose every connection is encrypted, trusting the test CA.
fn tls_farm(name: &str) -> Farm {
    require_service(5671, "RabbitMQ over TLS (scripts/rabbit-tls.sh)");
    require_service(10010, "Azurite over https");
    let ca = ca_dir().join("ca.pem");
    assert!(
        ca.exists(),
        "{} missing: run scripts/services.sh",
        ca.display()
    );
    // The test's own connections (queue depths, cleanup) trust it too.
    std::env::set_var("MOONFARM_TLS_CA_FILE", &ca);
    std::env::set_var("AZURITE_BLOB_STORAGE_URL", HTTPS);
    let mut farm = Farm::on_broker(name, AMQPS);
    farm.env = vec![
        ("MOONFARM_TLS_CA_FILE".into(), ca.display().to_string()),
        ("AZURITE_BLOB_STORAGE_URL".into(), HTTPS.into()),
    ];
    farm
}

fn untrusted(o: &Output, what: &str) -> String {
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{what}: {err}");
    assert!(err.contains("certificate"), "{what}: {err}");
    assert!(
        err.contains("MOONFARM_TLS_CA_FILE"),
        "{what}: says how to trust a CA: {err}"
    );
    err
}

#[test]
fn a_job_runs_over_amqps_and_https_with_certificates_verified() {
    let _serial = serial();
    let mut farm = tls_farm("tls");
    let render = Render::tiny();
    let reference = embedded(&render, farm.path());
    let merger = farm.merger();
    let worker = farm.worker();
    let job = farm.submit(&render);
    let image = farm.wait_done_and_fetch(&job, &render, &[&merger, &worker]);
    assert_same_image(&image, &reference, render.spp);
    let s = farm.status(&job);
    assert_eq!(s["state"], "done", "{s}");

    let scene = cornell();
    let submit = ["submit", scene.to_str().unwrap(), "--res", "16", "--json"];
    let other = ca_dir().join("other-ca.pem");
    let other = other.to_str().unwrap();
    // The broker's certificate checked against a CA that did not sign it: refused.
    let o = farm.producer_with(
        &submit,
        &[
            ("MOONFARM_TLS_CA_FILE", other),
            ("AZURITE_BLOB_STORAGE_URL", "http://127.0.0.1:10000"),
        ],
    );
    let err = untrusted(&o, "amqps with the wrong CA");
    assert!(err.contains("RabbitMQ") && err.contains(other), "{err}");
    // Blob Storage's, the same; and with no CA file only the system's roots, which do not
    // hold the test CA.
    let o = farm.producer_with(
        &["status", &job, "--json"],
        &[
            ("MOONFARM_TLS_CA_FILE", other),
            ("MOONFARM_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2f"),
        ],
    );
    untrusted(&o, "https with the wrong CA");
    let o = farm.producer_with(&submit, &[("MOONFARM_TLS_CA_FILE", "")]);
    let err = untrusted(&o, "system roots only");
    assert!(err.contains("is not set"), "{err}");
    // A CA file that holds no certificate is named as such.
    let junk = farm.path().join("junk.pem");
    std::fs::write(&junk, "not a certificate").unwrap();
    let o = farm.producer_with(&submit, &[("MOONFARM_TLS_CA_FILE", junk.to_str().unwrap())]);
    assert!(!o.status.success());
    assert!(
        text(&o.stderr).contains("no PEM certificate"),
        "{}",
        text(&o.stderr)
    );
    // None of them published or stored a job: the list holds the one that ran.
    let o = farm.producer(&["list", "--json"]);
    let list: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(list.as_array().map(Vec::len), Some(1), "{list}");
    assert_eq!(farm.depth(&farm.task_queue), 0);
    farm.cleanup();
    std::env::remove_var("MOONFARM_TLS_CA_FILE");
    std::env::remove_var("AZURITE_BLOB_STORAGE_URL");
}
