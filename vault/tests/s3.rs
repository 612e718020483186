//! The vault's S3-compatible blob backend against a real S3-compatible server: moto's
//! `moto_server` (PyPI `moto[server]`, which `scripts/setup.sh` installs) started on a loopback
//! port. The server is found in `EHR_S3_TEST_SERVER`, else `moto_server` on `PATH`.

use std::{
    net::TcpListener,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use ehr_envelope::{Envelope, KeyPair};
use ehr_types::AccountId;
use ehr_vault::store::{Store, StoreError};
use object_store::ObjectStore;

struct S3Server {
    child: Child,
    endpoint: String,
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_s3_server() -> S3Server {
    let program = std::env::var("EHR_S3_TEST_SERVER").unwrap_or_else(|_| "moto_server".into());
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = Command::new(&program)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|err| {
            panic!(
                "cannot start the S3-compatible test server {program:?}: {err}. \
                 scripts/setup.sh installs moto[server]; point EHR_S3_TEST_SERVER at its moto_server"
            )
        });
    let endpoint = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(30);
    while ureq::get(&endpoint).call().is_err() {
        assert!(Instant::now() < deadline, "{program} did not answer on {endpoint}");
        std::thread::sleep(Duration::from_millis(200));
    }
    S3Server { child, endpoint }
}

#[tokio::test]
async fn envelopes_live_in_an_s3_bucket_survive_a_restart_and_are_shredded() {
    let server = start_s3_server();
    ureq::put(&format!("{}/ehr-vault", server.endpoint)).call().expect("creating the bucket");
    for (name, value) in [
        ("AWS_ENDPOINT", server.endpoint.as_str()),
        ("AWS_ALLOW_HTTP", "true"),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("AWS_REGION", "us-east-1"),
    ] {
        std::env::set_var(name, value);
    }
    let dir = std::env::temp_dir().join(format!("ehr-vault-s3-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let (patient, doctor) = (AccountId::from([1; 32]), AccountId::from([2; 32]));
    let pid: [u8; 32] = [1; 32];
    let (patient_keys, doctor_keys) = (KeyPair::generate(), KeyPair::generate());
    let document = vec![0x5a; 256 * 1024];
    let (envelope, wrapped) =
        Envelope::seal_for(&document, &pid, &[patient_keys.public(), doctor_keys.public()]).unwrap();
    let hash = envelope.content_hash();
    {
        let store = Store::open_s3("s3://ehr-vault", &dir).unwrap();
        let keys = vec![(patient, wrapped[0].clone()), (doctor, wrapped[1].clone())];
        store.put(&patient, &patient, &envelope, &keys).await.unwrap();
    }
    // The envelope is an object in the bucket, under the patient's folder, as sealed.
    let bucket = object_store::aws::AmazonS3Builder::from_env().with_url("s3://ehr-vault").build().unwrap();
    let object =
        object_store::path::Path::from(format!("envelopes/{}/{}", hex::encode(pid), hex::encode(hash)));
    let stored = bucket.get(&object).await.expect("the envelope is in the bucket").bytes().await.unwrap();
    assert_eq!(&stored[..], envelope.as_bytes(), "the bucket holds the ciphertext as sealed");

    // Reopened (a restart): the doctor's key and the envelope are there, and open.
    let store = Store::open_s3("s3://ehr-vault", &dir).unwrap();
    let (bytes, key) = store.get(&patient, &hash, &doctor).await.unwrap();
    let opened = Envelope::from_bytes(bytes).unwrap().open_with(&key.unwrap(), &doctor_keys, &pid).unwrap();
    assert_eq!(opened, document);

    // Erased: the object is gone from the bucket, and no key is left.
    store.erase(&patient, &hash).await.unwrap();
    assert!(matches!(bucket.get(&object).await, Err(object_store::Error::NotFound { .. })));
    assert_eq!(store.key_count(&patient, &hash).await.unwrap(), 0);
    assert!(matches!(store.get(&patient, &hash, &patient).await, Err(StoreError::Erased { .. })));

    // A bucket that does not exist is a clear error, not a panic.
    let missing = Store::open_s3("s3://no-such-bucket", &dir.join("other")).unwrap();
    let err = missing.put(&patient, &patient, &envelope, &[]).await.unwrap_err();
    assert!(matches!(err, StoreError::Blobs(_)), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}
