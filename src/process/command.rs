//! Starting child processes the *spawn* way: run this same executable again, with a role.
//!
//! Python's `multiprocessing` has three start methods. `fork` copies the parent, threads' locks
//! included, but only the calling thread: a lock that another thread held at that moment stays
//! locked forever in the child (the fork deadlock of Part I). `spawn` starts a fresh interpreter
//! that imports the main module and runs the target. [`Command`] is `spawn` for a Rust program:
//! it runs [`std::env::current_exe`] again, tells the child its *role* in an environment
//! variable ([`role`]), and hands it the shared regions it was given by file-descriptor
//! inheritance. The program's `main` (or a test) looks at [`role`] first and runs the child's
//! part.
//!
//! Nothing but `fcntl` runs in the child between `fork` and `exec` (std's `Command` does the
//! fork and exec), so no lock of the parent can be inherited locked.

use std::ffi::{OsStr, OsString};
use std::process::{ChildStdout, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use super::{ProcessError, Shareable, Shared};

/// The environment variable that tells a child its role.
const ROLE_ENV: &str = "SYNCLAB_ROLE";
/// The environment variable that lists the inherited region descriptors: `"5,7"`.
const FDS_ENV: &str = "SYNCLAB_SHARED_FDS";

/// In a child started by [`Command`], the role it was started with; `None` in a process that
/// was not.
///
/// ```
/// // A program's main decides first what it is:
/// match synclab::process::role().as_deref() {
///     Some("worker") => { /* the child's part */ }
///     _ => { /* the parent's part */ }
/// }
/// ```
pub fn role() -> Option<String> {
    std::env::var(ROLE_ENV).ok()
}

/// The `index`-th descriptor listed by the parent.
pub(super) fn inherited_fd(index: usize) -> Result<i32, ProcessError> {
    if cfg!(not(target_os = "linux")) {
        return Err(ProcessError::Unsupported);
    }
    std::env::var(FDS_ENV)
        .ok()
        .and_then(|list| list.split(',').nth(index)?.parse().ok())
        .ok_or(ProcessError::NotInherited { index })
}

/// A child process to start: this executable again, with a role (Python's
/// `multiprocessing.Process` with the `spawn` start method).
///
/// ```no_run
/// use synclab::process::{self, Command, Queue, Shared};
///
/// fn main() -> Result<(), Box<dyn std::error::Error>> {
///     if process::role().as_deref() == Some("worker") {
///         let q = Shared::<Queue<u32, 16>>::inherited(0)?;
///         q.put(std::process::id()).unwrap();
///         return Ok(());
///     }
///     let q = Shared::new(Queue::<u32, 16>::new())?;
///     let child = Command::new("worker").share(&q).spawn()?;
///     let pid = q.get().unwrap();
///     assert_eq!(pid, child.pid());
///     assert!(child.join()?.success());
///     Ok(())
/// }
/// ```
#[derive(Debug)]
pub struct Command {
    role: String,
    args: Vec<OsString>,
    envs: Vec<(OsString, OsString)>,
    /// Close-on-exec copies of the shared regions' descriptors, owned by the command.
    fds: Vec<i32>,
    stdout: Option<Stdio>,
}

impl Command {
    /// A child that will run this executable with `role` (see [`role`]).
    ///
    /// ```
    /// let cmd = synclab::process::Command::new("worker");
    /// ```
    pub fn new(role: &str) -> Command {
        Command {
            role: role.into(),
            args: Vec::new(),
            envs: Vec::new(),
            fds: Vec::new(),
            stdout: None,
        }
    }

    /// Adds a command-line argument. (A test passes `[test_name, "--exact", "--nocapture"]`,
    /// so that the test harness in the child runs just that test.)
    ///
    /// ```
    /// synclab::process::Command::new("worker").arg("--quick");
    /// ```
    pub fn arg(&mut self, arg: impl AsRef<OsStr>) -> &mut Command {
        self.args.push(arg.as_ref().into());
        self
    }

    /// Adds command-line arguments.
    ///
    /// ```
    /// synclab::process::Command::new("worker").args(["my_test", "--exact"]);
    /// ```
    pub fn args<I, S>(&mut self, args: I) -> &mut Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().into()));
        self
    }

    /// Sets an environment variable for the child.
    ///
    /// ```
    /// synclab::process::Command::new("worker").env("INDEX", "3");
    /// ```
    pub fn env(&mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> &mut Command {
        self.envs.push((key.as_ref().into(), value.as_ref().into()));
        self
    }

    /// Hands `region` to the child: it opens it with [`Shared::inherited`]`(i)`, where `i`
    /// counts the `share` calls from 0. Only this child inherits the descriptor.
    ///
    /// ```
    /// use synclab::process::{Command, Event, Shared};
    /// # if cfg!(target_os = "linux") {
    /// let go = Shared::new(Event::new()).unwrap();
    /// Command::new("worker").share(&go); // Shared::<Event>::inherited(0) in the child
    /// # }
    /// ```
    pub fn share<T: Shareable>(&mut self, region: &Shared<T>) -> &mut Command {
        self.fds.push(dup_cloexec(region.fd()));
        self
    }

    /// Hands a copy of the descriptor `fd` to the child, at the next index of the list that
    /// `share` also appends to (the process pool passes its pipes this way).
    #[cfg_attr(not(feature = "serde"), allow(dead_code))] // only the process pool uses it
    pub(super) fn pass_fd(&mut self, fd: i32) -> &mut Command {
        self.fds.push(dup_cloexec(fd));
        self
    }

    /// Where the child's standard output goes (`Stdio::piped()` to read it with
    /// [`Child::stdout`]); by default the parent's.
    ///
    /// ```
    /// synclab::process::Command::new("worker").stdout(std::process::Stdio::piped());
    /// ```
    pub fn stdout(&mut self, stdout: Stdio) -> &mut Command {
        self.stdout = Some(stdout);
        self
    }

    // ANCHOR: spawn
    /// Starts the child.
    ///
    /// ```no_run
    /// let child = synclab::process::Command::new("worker").spawn().unwrap();
    /// assert!(child.join().unwrap().success());
    /// ```
    pub fn spawn(&mut self) -> Result<Child, ProcessError> {
        if cfg!(not(target_os = "linux")) {
            return Err(ProcessError::Unsupported);
        }
        if let Some(&bad) = self.fds.iter().find(|&&fd| fd < 0) {
            return Err(ProcessError::Io(std::io::Error::other(format!(
                "a shared region could not be handed over (descriptor {bad})"
            ))));
        }
        let mut cmd = std::process::Command::new(std::env::current_exe()?);
        cmd.args(&self.args)
            .env(ROLE_ENV, &self.role)
            .env(FDS_ENV, fd_list(&self.fds))
            .envs(self.envs.iter().map(|(k, v)| (k, v)));
        if let Some(stdout) = self.stdout.take() {
            cmd.stdout(stdout);
        }
        #[cfg(target_os = "linux")]
        {
            use std::os::unix::process::CommandExt;
            let fds = self.fds.clone();
            // SAFETY: the closure runs in the child between fork and exec. It only calls
            // `fcntl`, which is async-signal-safe, and reads a Vec allocated before the fork;
            // it allocates nothing and takes no lock.
            unsafe {
                cmd.pre_exec(move || {
                    for &fd in &fds {
                        // Clear close-on-exec: this descriptor survives into the child.
                        if libc::fcntl(fd, libc::F_SETFD, 0) == -1 {
                            return Err(std::io::Error::last_os_error());
                        }
                    }
                    Ok(())
                })
            };
        }
        Ok(Child {
            inner: Some(cmd.spawn()?),
        })
    }
    // ANCHOR_END: spawn
}

impl Drop for Command {
    fn drop(&mut self) {
        for &fd in &self.fds {
            close(fd);
        }
    }
}

fn fd_list(fds: &[i32]) -> String {
    fds.iter().map(i32::to_string).collect::<Vec<_>>().join(",")
}

/// A close-on-exec copy of `fd`, or -1 if it cannot be made.
fn dup_cloexec(fd: i32) -> i32 {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: F_DUPFD_CLOEXEC only creates a new descriptor; a bad `fd` gives EBADF (-1).
        unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 0) }
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = fd;
        -1
    }
}

fn close(fd: i32) {
    #[cfg(target_os = "linux")]
    if fd >= 0 {
        // SAFETY: `fd` is a copy this `Command` made and owns; nobody else closes it.
        unsafe { libc::close(fd) };
    }
    #[cfg(not(target_os = "linux"))]
    let _ = fd;
}

/// A running child process started by [`Command`].
///
/// [`join`](Child::join) waits for it and returns its exit status (Python's `join()` plus
/// `exitcode`). A `Child` dropped without being joined is killed (SIGKILL) and reaped, so that
/// a parent that fails half-way leaves no orphan running and no zombie.
#[derive(Debug)]
pub struct Child {
    inner: Option<std::process::Child>,
}

impl Child {
    fn child(&mut self) -> &mut std::process::Child {
        self.inner
            .as_mut()
            .expect("a Child is only emptied by join")
    }

    /// The child's process id.
    ///
    /// ```no_run
    /// let child = synclab::process::Command::new("worker").spawn().unwrap();
    /// println!("started {}", child.pid());
    /// ```
    pub fn pid(&self) -> u32 {
        self.inner.as_ref().map_or(0, std::process::Child::id)
    }

    /// Waits for the child to exit and returns its exit status.
    ///
    /// ```no_run
    /// let child = synclab::process::Command::new("worker").spawn().unwrap();
    /// assert!(child.join().unwrap().success());
    /// ```
    pub fn join(mut self) -> Result<ExitStatus, ProcessError> {
        let status = self.child().wait()?;
        self.inner = None;
        Ok(status)
    }

    /// Waits at most `timeout` for the child to exit: `Ok(None)` if it is still running (it
    /// is then still joinable, or killable).
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// let mut child = synclab::process::Command::new("worker").spawn().unwrap();
    /// if child.join_timeout(Duration::from_secs(5)).unwrap().is_none() {
    ///     child.kill().unwrap(); // hung: kill it
    /// }
    /// ```
    pub fn join_timeout(&mut self, timeout: Duration) -> Result<Option<ExitStatus>, ProcessError> {
        let deadline = crate::futex::deadline_after(timeout);
        loop {
            if let Some(status) = self.child().try_wait()? {
                return Ok(Some(status));
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return Ok(None);
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    /// Kills the child with SIGKILL (Python's `kill()`) and reaps it; its exit status then
    /// says so. Killing a child that already exited is not an error.
    ///
    /// ```no_run
    /// use std::os::unix::process::ExitStatusExt;
    /// let mut child = synclab::process::Command::new("worker").spawn().unwrap();
    /// child.kill().unwrap();
    /// assert_eq!(child.join().unwrap().signal(), Some(9));
    /// ```
    pub fn kill(&mut self) -> Result<(), ProcessError> {
        self.child().kill()?;
        Ok(())
    }

    /// The read end of the child's standard output, if [`Command::stdout`] was
    /// `Stdio::piped()`.
    ///
    /// ```no_run
    /// use std::io::Read;
    /// use std::process::Stdio;
    /// let mut child = synclab::process::Command::new("worker").stdout(Stdio::piped()).spawn().unwrap();
    /// let mut out = Vec::new();
    /// child.stdout().unwrap().read_to_end(&mut out).unwrap();
    /// ```
    pub fn stdout(&mut self) -> Option<&mut ChildStdout> {
        self.child().stdout.as_mut()
    }

    /// Takes the read end of the child's standard output, e.g. to read it on another thread.
    ///
    /// ```no_run
    /// use std::process::Stdio;
    /// let mut child = synclab::process::Command::new("worker").stdout(Stdio::piped()).spawn().unwrap();
    /// let out = child.take_stdout().unwrap();
    /// ```
    pub fn take_stdout(&mut self) -> Option<ChildStdout> {
        self.child().stdout.take()
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        if let Some(mut child) = self.inner.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
