//! The stdio transport: MCP over this process's stdin and stdout, as the client
//! that started `m4` connected them.
//!
//! Clients connect them with pipes (Python's `subprocess`, shells) or with Unix
//! socket pairs (Node's `child_process`: Claude Desktop, Claude Code, Cursor,
//! VS Code). Both are read and written here on the runtime's own event loop,
//! non-blocking. tokio's `stdin()` and `stdout()` instead hand every read and
//! every write to a blocking thread, which is a thread hand-off each way on every
//! message: an MCP `ping` took 0.14 ms from request written to reply read that
//! way, and 0.02 ms this way (`benches/m4_bench.rs`). Anything else (a terminal,
//! a file, Windows) is read and written through tokio's `stdin()` and `stdout()`.
//!
//! Non-blocking mode belongs to the open file, which whoever passed it to `m4`
//! may share, so [`OriginalModes`] puts back each file's mode once serving is over.
//! This module owns descriptors 0 and 1 while serving; nothing else may read
//! stdin or write stdout (logs go to stderr).

use tokio::io::{AsyncRead, AsyncWrite};

/// The reading half of the transport.
pub type Reader = Box<dyn AsyncRead + Send + Unpin>;
/// The writing half of the transport.
pub type Writer = Box<dyn AsyncWrite + Send + Unpin>;

/// Stdin and stdout, event-driven when they are pipes or sockets, and the guard
/// that puts back their files' modes: drop it once the transport is gone (after
/// the runtime has shut down).
///
/// Must be called within the tokio runtime that will serve them.
#[cfg_attr(not(unix), allow(unused_mut))]
pub fn open() -> (Reader, Writer, OriginalModes) {
    let mut modes = OriginalModes::default();
    #[cfg(unix)]
    let (reader, writer) = (unix::reader(&mut modes.0), unix::writer(&mut modes.0));
    #[cfg(not(unix))]
    let (reader, writer): (Option<Reader>, Option<Writer>) = (None, None);
    (
        reader.unwrap_or_else(|| Box::new(tokio::io::stdin())),
        writer.unwrap_or_else(|| Box::new(tokio::io::stdout())),
        modes,
    )
}

/// The modes stdin's and stdout's files had before they were made non-blocking;
/// put back on drop.
#[derive(Default)]
pub struct OriginalModes(#[cfg(unix)] Vec<unix::OriginalMode>);

impl Drop for OriginalModes {
    fn drop(&mut self) {
        // Last made non-blocking, first put back: when stdin and stdout are one
        // socket, stdout's "before" is already stdin's "after".
        #[cfg(unix)]
        for original in self.0.drain(..).rev() {
            original.restore();
        }
    }
}

#[cfg(unix)]
mod unix {
    use std::fs::File;
    use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
    use std::os::unix::fs::FileTypeExt;

    use rustix::fs::OFlags;
    use tokio::net::UnixStream;
    use tokio::net::unix::pipe;

    use super::{Reader, Writer};

    /// An open file's mode before it was made non-blocking, and a handle to it.
    pub(super) struct OriginalMode {
        file: OwnedFd,
        flags: OFlags,
    }

    impl OriginalMode {
        fn of(fd: BorrowedFd<'_>) -> Option<OriginalMode> {
            let file = fd.try_clone_to_owned().ok()?;
            let flags = rustix::fs::fcntl_getfl(&file).ok()?;
            Some(OriginalMode { file, flags })
        }

        pub(super) fn restore(self) {
            if let Err(error) = rustix::fs::fcntl_setfl(&self.file, self.flags) {
                tracing::debug!(%error, "could not put back the blocking mode of stdin or stdout");
            }
        }
    }

    /// Stdin, when it is a pipe or a socket.
    pub(super) fn reader(restore: &mut Vec<OriginalMode>) -> Option<Reader> {
        on_event_loop(
            std::io::stdin().as_fd(),
            restore,
            |fd| Ok(Box::new(pipe::Receiver::from_owned_fd(fd)?) as Reader),
            |stream| Box::new(stream) as Reader,
        )
    }

    /// Stdout, when it is a pipe or a socket.
    pub(super) fn writer(restore: &mut Vec<OriginalMode>) -> Option<Writer> {
        on_event_loop(
            std::io::stdout().as_fd(),
            restore,
            |fd| Ok(Box::new(pipe::Sender::from_owned_fd(fd)?) as Writer),
            |stream| Box::new(stream) as Writer,
        )
    }

    /// `fd` as a stream of the event loop, made by `from_pipe` or `from_socket`,
    /// with its file's mode recorded in `restore`; `None` (the mode as it was)
    /// when it is neither a pipe nor a socket, or the stream cannot be made.
    fn on_event_loop<T>(
        fd: BorrowedFd<'_>,
        restore: &mut Vec<OriginalMode>,
        from_pipe: impl FnOnce(OwnedFd) -> std::io::Result<T>,
        from_socket: impl FnOnce(UnixStream) -> T,
    ) -> Option<T> {
        let (kind, fd, original) = open(fd)?;
        let stream = match kind {
            Kind::Pipe => from_pipe(fd).ok(),
            Kind::Socket => socket(fd).map(from_socket),
        };
        match stream {
            Some(_) => restore.push(original),
            // The file may be non-blocking already, and the fallback reads and
            // writes it blocking.
            None => original.restore(),
        }
        stream
    }

    enum Kind {
        Pipe,
        Socket,
    }

    /// What `fd` is, a descriptor of its own for it, and its mode now.
    fn open(fd: BorrowedFd<'_>) -> Option<(Kind, OwnedFd, OriginalMode)> {
        let own = fd.try_clone_to_owned().ok()?;
        let file = File::from(own);
        let file_type = file.metadata().ok()?.file_type();
        let kind = if file_type.is_fifo() {
            Kind::Pipe
        } else if file_type.is_socket() {
            Kind::Socket
        } else {
            return None;
        };
        let original = OriginalMode::of(fd)?;
        Some((kind, OwnedFd::from(file), original))
    }

    fn socket(fd: OwnedFd) -> Option<UnixStream> {
        let stream = std::os::unix::net::UnixStream::from(fd);
        stream.set_nonblocking(true).ok()?;
        UnixStream::from_std(stream).ok()
    }
}
