use super::*;
use crate::secret::Secret;
use crate::vault::VaultProtection;

const MINUTE: Duration = Duration::from_secs(60);

fn status(locked: bool, protection: VaultProtection) -> VaultStatus {
    VaultStatus {
        initialized: true,
        locked,
        protection: Some(protection),
        keychain_available: false,
        keychain_error: None,
        auto_unlock_error: None,
        key_generation: 1,
        data_dir: String::new(),
        version: String::new(),
    }
}

fn after(minutes: Option<u32>) -> AppSettings {
    AppSettings {
        auto_lock_minutes: minutes,
        ..AppSettings::default()
    }
}

#[test]
fn locks_only_an_unlocked_password_vault_idle_for_the_set_minutes() {
    use VaultProtection::{Keychain, Password};
    let unlocked = status(false, Password);
    assert!(lock_due(&after(Some(5)), &unlocked, 5 * MINUTE));
    assert!(lock_due(&after(Some(5)), &unlocked, 50 * MINUTE));
    assert!(!lock_due(
        &after(Some(5)),
        &unlocked,
        5 * MINUTE - Duration::from_millis(1)
    ));
    assert!(!lock_due(&after(None), &unlocked, 24 * 60 * MINUTE));
    assert!(!lock_due(&after(Some(0)), &unlocked, 24 * 60 * MINUTE));
    assert!(!lock_due(
        &after(Some(5)),
        &status(true, Password),
        50 * MINUTE
    ));
    assert!(!lock_due(
        &after(Some(5)),
        &status(false, Keychain),
        50 * MINUTE
    ));
    let mut uninitialized = unlocked.clone();
    uninitialized.initialized = false;
    assert!(!lock_due(&after(Some(5)), &uninitialized, 50 * MINUTE));
}

#[test]
fn idle_time_is_the_larger_of_the_two_clocks() {
    let mono = Instant::now();
    let wall = SystemTime::now();
    // A machine that slept an hour: the monotonic clock saw a minute, the wall clock an hour.
    assert_eq!(
        idle_since(mono, mono + MINUTE, wall, wall + 60 * MINUTE),
        60 * MINUTE
    );
    // The wall clock set back a day: the monotonic clock still counts.
    let yesterday = wall.checked_sub(24 * 60 * MINUTE).unwrap();
    assert_eq!(
        idle_since(mono, mono + 7 * MINUTE, wall, yesterday),
        7 * MINUTE
    );
}

/// A vault in memory that records when it was locked.
struct Fake {
    settings: Mutex<AppSettings>,
    status: Mutex<VaultStatus>,
    locks: Mutex<Vec<(Instant, Duration)>>,
}

impl Fake {
    fn new(minutes: Option<u32>, protection: VaultProtection) -> Arc<Self> {
        Arc::new(Self {
            settings: Mutex::new(after(minutes)),
            status: Mutex::new(status(false, protection)),
            locks: Mutex::new(Vec::new()),
        })
    }

    fn locks(&self) -> Vec<(Instant, Duration)> {
        self.locks.lock().unwrap().clone()
    }

    fn unlock(&self) {
        self.status.lock().unwrap().locked = false;
    }
}

impl LockTarget for Arc<Fake> {
    async fn snapshot(&self) -> Option<(AppSettings, VaultStatus)> {
        let settings = self.settings.lock().unwrap().clone();
        let status = self.status.lock().unwrap().clone();
        Some((settings, status))
    }

    async fn lock(&self, idle: Duration) {
        self.status.lock().unwrap().locked = true;
        self.locks.lock().unwrap().push((Instant::now(), idle));
    }
}

struct Loop {
    fake: Arc<Fake>,
    activity: Arc<Activity>,
    cancel: CancellationToken,
    task: tokio::task::JoinHandle<()>,
    start: Instant,
}

impl Loop {
    fn start(fake: Arc<Fake>) -> Self {
        let activity = Arc::new(Activity::new());
        let cancel = CancellationToken::new();
        let task = tokio::spawn(run(fake.clone(), activity.clone(), cancel.clone()));
        Self {
            fake,
            activity,
            cancel,
            task,
            start: Instant::now(),
        }
    }

    /// Returns when each lock happened, counted from the start, and the idle time it saw.
    fn locks(&self) -> Vec<(Duration, Duration)> {
        let start = self.start;
        self.fake
            .locks()
            .into_iter()
            .map(|(at, idle)| (at - start, idle))
            .collect()
    }

    async fn stop(self) {
        self.cancel.cancel();
        tokio::time::timeout(Duration::from_secs(1), self.task)
            .await
            .unwrap()
            .unwrap();
    }
}

async fn sleep_until(l: &Loop, since_start: Duration) {
    tokio::time::sleep_until(l.start + since_start).await;
}

#[tokio::test(start_paused = true)]
async fn locks_within_one_check_of_the_limit_and_only_once() {
    let l = Loop::start(Fake::new(Some(5), VaultProtection::Password));
    sleep_until(&l, 5 * MINUTE - Duration::from_secs(1)).await;
    assert!(l.locks().is_empty(), "locked early: {:?}", l.locks());

    sleep_until(&l, 5 * MINUTE + CHECK_EVERY).await;
    let locks = l.locks();
    assert_eq!(locks.len(), 1);
    let (at, idle) = locks[0];
    assert!(
        at >= 5 * MINUTE && at <= 5 * MINUTE + CHECK_EVERY,
        "locked at {at:?}"
    );
    assert!(idle >= 5 * MINUTE);

    // Already locked: nothing more happens however long it stays idle.
    sleep_until(&l, 60 * MINUTE).await;
    assert_eq!(l.locks().len(), 1);
    l.stop().await;
}

#[tokio::test(start_paused = true)]
async fn activity_and_unlocking_restart_the_countdown() {
    let l = Loop::start(Fake::new(Some(2), VaultProtection::Password));
    // The user types at 1:30; the lock moves from 2:00 to 3:30.
    sleep_until(&l, MINUTE + 30 * Duration::from_secs(1)).await;
    l.activity.touch();
    sleep_until(&l, 3 * MINUTE + 29 * Duration::from_secs(1)).await;
    assert!(l.locks().is_empty(), "locked early: {:?}", l.locks());
    sleep_until(&l, 3 * MINUTE + 30 * Duration::from_secs(1) + CHECK_EVERY).await;
    assert_eq!(l.locks().len(), 1);

    // Unlocked at 10:00 (the app touches the activity on unlock): the next lock is at 12:00.
    sleep_until(&l, 10 * MINUTE).await;
    l.fake.unlock();
    l.activity.touch();
    sleep_until(&l, 12 * MINUTE - Duration::from_secs(1)).await;
    assert_eq!(l.locks().len(), 1);
    sleep_until(&l, 12 * MINUTE + CHECK_EVERY).await;
    let locks = l.locks();
    assert_eq!(locks.len(), 2);
    assert!(locks[1].0 >= 12 * MINUTE, "locked at {:?}", locks[1].0);
    l.stop().await;
}

#[tokio::test(start_paused = true)]
async fn never_locks_when_off_or_keychain_protected_and_follows_a_new_setting() {
    let off = Loop::start(Fake::new(None, VaultProtection::Password));
    let keychain = Loop::start(Fake::new(Some(1), VaultProtection::Keychain));
    sleep_until(&off, 3 * 60 * MINUTE).await;
    assert!(off.locks().is_empty());
    assert!(keychain.locks().is_empty());

    // Turned on elsewhere (e.g. the CLI): read afresh at the next check. Three hours idle
    // already, so the lock comes at once.
    *off.fake.settings.lock().unwrap() = after(Some(30));
    sleep_until(&off, 3 * 60 * MINUTE + CHECK_EVERY).await;
    assert_eq!(off.locks().len(), 1);
    off.stop().await;
    keychain.stop().await;
}

#[tokio::test(start_paused = true)]
async fn cancelling_ends_the_loop_without_another_check() {
    let l = Loop::start(Fake::new(Some(1), VaultProtection::Password));
    sleep_until(&l, 30 * Duration::from_secs(1)).await;
    let fake = l.fake.clone();
    l.stop().await;
    tokio::time::sleep(10 * MINUTE).await;
    assert!(fake.locks().is_empty());
}

#[tokio::test]
async fn the_owner_starts_once_and_stops_its_loop() {
    let owner = AutoLock::new();
    let fake = Fake::new(None, VaultProtection::Password);
    owner.start(fake.clone());
    owner.start(fake.clone()); // ignored: one loop
    assert!(owner.task.lock().unwrap().is_some());
    owner.stop().await;
    assert!(owner.task.lock().unwrap().is_none());
    assert!(owner.cancel.is_cancelled());
    owner.start(fake); // after shutdown: ignored
    assert!(owner.task.lock().unwrap().is_none());
}

#[tokio::test]
async fn the_core_target_reads_the_setting_and_locks_the_real_vault() {
    std::env::set_var(crate::api::NO_KEYCHAIN_ENV, "1");
    let dir = tempfile::tempdir().unwrap();
    let core = Arc::new(
        Brokerdesk::open_as(dir.path(), crate::api::default_keystore(), "app")
            .await
            .unwrap(),
    );
    core.init(Some(Secret::new("correct horse battery staple")))
        .await
        .unwrap();
    core.settings_update(after(Some(1))).await.unwrap();

    let told = Arc::new(Mutex::new(Vec::<VaultStatus>::new()));
    let opened = Arc::new(Mutex::new(None::<Arc<Brokerdesk>>));
    let target = {
        let (told, opened) = (told.clone(), opened.clone());
        CoreLock::new(
            move || opened.lock().unwrap().clone(),
            move |s: &VaultStatus| told.lock().unwrap().push(s.clone()),
        )
    };
    // Not open yet: nothing to read, nothing to lock.
    assert!(target.snapshot().await.is_none());
    target.lock(2 * MINUTE).await;
    assert!(told.lock().unwrap().is_empty());

    *opened.lock().unwrap() = Some(core.clone());
    let (settings, status) = target.snapshot().await.unwrap();
    assert_eq!(settings.auto_lock_minutes, Some(1));
    assert!(lock_due(&settings, &status, 2 * MINUTE));

    target.lock(2 * MINUTE).await;
    assert!(core.status().await.unwrap().locked);
    let told = told.lock().unwrap().clone();
    assert_eq!(told.len(), 1);
    assert!(told[0].locked);
    let (_, status) = target.snapshot().await.unwrap();
    assert!(!lock_due(&settings, &status, 2 * MINUTE));
    core.close().await;
}
