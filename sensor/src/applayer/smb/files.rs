//! Zeek's SMB2 script state (`SMB::State` in `smb2-main.zeek`): commands
//! pending by message id, trees by tree id, files by file id, and when a
//! row of `smb_mapping.log` or `smb_files.log` is written. Zeek's records
//! are shared references; here a command names its tree and file either
//! by id (the shared entry in the map) or owns a fresh one until a
//! response gives it an id, which is the same sharing made explicit.

use super::super::{ConnIdent, Session};
use super::wire::{filetime, Created};
use vagt_schema::{EventBody, SmbFilesRecord, SmbMappingRecord};

/// Commands awaiting their response (Zeek's `max_pending_messages`, lower:
/// a client keeps a few dozen in flight).
const MAX_PENDING: usize = 256;
/// Trees and open files remembered per connection.
const MAX_TREES: usize = 64;
const MAX_FILES: usize = 1024;
/// Rows remembered to avoid writing the same file twice (`recent_files`),
/// and how long one is remembered after it was last looked up.
const MAX_RECENT: usize = 512;
const RECENT_EXPIRE_NS: i64 = 180_000_000_000;

/// What was done to a file, as `SMB::Action` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    FileRead,
    FileWrite,
    FileOpen,
    FileClose,
    FileDelete,
    FileRename,
    FileSetAttribute,
    PipeRead,
    PipeWrite,
    PipeOpen,
    PipeClose,
    PrintRead,
    PrintWrite,
    PrintOpen,
    PrintClose,
}

impl Action {
    fn name(self) -> &'static str {
        match self {
            Action::FileRead => "SMB::FILE_READ",
            Action::FileWrite => "SMB::FILE_WRITE",
            Action::FileOpen => "SMB::FILE_OPEN",
            Action::FileClose => "SMB::FILE_CLOSE",
            Action::FileDelete => "SMB::FILE_DELETE",
            Action::FileRename => "SMB::FILE_RENAME",
            Action::FileSetAttribute => "SMB::FILE_SET_ATTRIBUTE",
            Action::PipeRead => "SMB::PIPE_READ",
            Action::PipeWrite => "SMB::PIPE_WRITE",
            Action::PipeOpen => "SMB::PIPE_OPEN",
            Action::PipeClose => "SMB::PIPE_CLOSE",
            Action::PrintRead => "SMB::PRINT_READ",
            Action::PrintWrite => "SMB::PRINT_WRITE",
            Action::PrintOpen => "SMB::PRINT_OPEN",
            Action::PrintClose => "SMB::PRINT_CLOSE",
        }
    }

    /// The actions written to the log: Zeek's default
    /// `SMB::logged_file_actions` plus reads and writes of files (once per
    /// file, like every row), which an NDR wants to see.
    fn logged(self) -> bool {
        matches!(
            self,
            Action::FileOpen
                | Action::FileRead
                | Action::FileWrite
                | Action::FileRename
                | Action::FileDelete
                | Action::PrintOpen
                | Action::PrintClose
        )
    }

    /// The action for a disk, pipe or print share (`[disk, pipe, print]`),
    /// the disk one for any other share type.
    pub fn by_share(share: &str, actions: [Action; 3]) -> Action {
        match share {
            "PIPE" => actions[1],
            "PRINT" => actions[2],
            _ => actions[0],
        }
    }
}

#[derive(Clone, Debug)]
struct Tree {
    ts: f64,
    path: Option<String>,
    share_type: String,
}

impl Tree {
    fn new(ts: f64) -> Tree {
        Tree {
            ts,
            path: None,
            share_type: "DISK".to_string(),
        }
    }
}

#[derive(Clone, Debug, Default)]
struct File {
    ts: f64,
    action: Option<Action>,
    path: Option<String>,
    name: Option<String>,
    size: u64,
    prev_name: Option<String>,
    /// Raw FILETIMEs: modified, accessed, created, changed.
    times: Option<[u64; 4]>,
    /// The file's contents were seen: where Zeek's file analysis gives the
    /// file its `fuid` (and writes the row again, now with it).
    data_seen: bool,
}

#[derive(Debug)]
enum TreeRef {
    Unset,
    Tid(u32),
    Own(Tree),
}

#[derive(Debug)]
enum FileRef {
    Own(File),
    Fid(u64),
}

#[derive(Debug)]
struct Cmd {
    mid: u64,
    tree: TreeRef,
    file: FileRef,
}

/// The SMB2 state of one connection.
#[derive(Default)]
pub struct State {
    pending: Vec<Cmd>,
    trees: Vec<(u32, Tree)>,
    files: Vec<(u64, File)>,
    recent: Vec<(String, i64)>,
}

impl State {
    /// `smb2_message` (priority 5): finds or opens the command of message
    /// `mid` and settles which tree it refers to.
    pub fn begin(&mut self, s: &mut Session<'_>, mid: u64, tid: u32) {
        let now = ConnIdent::time(s.ts);
        if !self.pending.iter().any(|c| c.mid == mid) {
            if self.pending.len() >= MAX_PENDING {
                s.weird("smb2_discarded_messages_state");
                self.pending.clear();
            }
            self.pending.push(Cmd {
                mid,
                tree: TreeRef::Unset,
                file: FileRef::Own(File {
                    ts: now,
                    ..File::default()
                }),
            });
        }
        let Some(i) = self.pending.iter().position(|c| c.mid == mid) else {
            return;
        };
        if tid == 0 {
            self.pending[i].tree = TreeRef::Own(Tree::new(now));
            return;
        }
        let own = match std::mem::replace(&mut self.pending[i].tree, TreeRef::Tid(tid)) {
            TreeRef::Own(t) => Some(t),
            TreeRef::Tid(x) if x != tid => self.tree(x).cloned(),
            _ => None,
        };
        match own {
            Some(t) => self.put_tree(tid, t),
            None if self.tree(tid).is_none() => self.put_tree(tid, Tree::new(now)),
            None => {}
        }
    }

    /// `smb2_message` (priority -5): a final response ends its command.
    pub fn end(&mut self, mid: u64, is_orig: bool, pending: bool) {
        if !is_orig && !pending {
            self.pending.retain(|c| c.mid != mid);
        }
    }

    fn tree(&self, tid: u32) -> Option<&Tree> {
        self.trees.iter().find(|(t, _)| *t == tid).map(|(_, t)| t)
    }

    fn put_tree(&mut self, tid: u32, tree: Tree) {
        match self.trees.iter_mut().find(|(t, _)| *t == tid) {
            Some(e) => e.1 = tree,
            None => {
                if self.trees.len() >= MAX_TREES {
                    self.trees.remove(0);
                }
                self.trees.push((tid, tree));
            }
        }
    }

    fn cmd(&mut self, mid: u64) -> Option<&mut Cmd> {
        self.pending.iter_mut().find(|c| c.mid == mid)
    }

    /// The current tree of command `mid` (Zeek's `current_tree`).
    fn current_tree(&mut self, mid: u64) -> Option<&mut Tree> {
        let i = self.pending.iter().position(|c| c.mid == mid)?;
        match &self.pending[i].tree {
            TreeRef::Tid(t) => {
                let t = *t;
                self.trees.iter_mut().find(|(x, _)| *x == t).map(|(_, t)| t)
            }
            TreeRef::Own(_) => match &mut self.pending[i].tree {
                TreeRef::Own(t) => Some(t),
                _ => None,
            },
            TreeRef::Unset => None,
        }
    }

    /// The share type of command `mid`'s tree ("DISK" when unknown, as a
    /// fresh `TreeInfo` says).
    pub fn share_type(&mut self, mid: u64) -> String {
        self.current_tree(mid)
            .map_or_else(|| "DISK".to_string(), |t| t.share_type.clone())
    }

    /// The current file of command `mid`.
    fn current_file(&mut self, mid: u64) -> Option<&mut File> {
        let i = self.pending.iter().position(|c| c.mid == mid)?;
        match &self.pending[i].file {
            FileRef::Fid(f) => {
                let f = *f;
                self.files.iter_mut().find(|(x, _)| *x == f).map(|(_, f)| f)
            }
            FileRef::Own(_) => match &mut self.pending[i].file {
                FileRef::Own(f) => Some(f),
                _ => None,
            },
        }
    }

    /// Zeek's `set_current_file`: the file id takes the command's file if
    /// it has none yet, and the command refers to the id's file from now.
    fn set_current_file(&mut self, mid: u64, fid: u64) {
        let Some(i) = self.pending.iter().position(|c| c.mid == mid) else {
            return;
        };
        if !self.files.iter().any(|(f, _)| *f == fid) {
            let file = match std::mem::replace(&mut self.pending[i].file, FileRef::Fid(fid)) {
                FileRef::Own(f) => f,
                FileRef::Fid(x) => self
                    .files
                    .iter()
                    .find(|(f, _)| *f == x)
                    .map(|(_, f)| f.clone())
                    .unwrap_or_default(),
            };
            if self.files.len() >= MAX_FILES {
                self.files.remove(0);
            }
            self.files.push((fid, file));
        }
        self.pending[i].file = FileRef::Fid(fid);
    }

    pub fn tree_connect_request(&mut self, mid: u64, path: String) {
        if let Some(t) = self.current_tree(mid) {
            t.path = Some(path);
        }
    }

    pub fn tree_connect_response(&mut self, s: &mut Session<'_>, mid: u64, share_type: u8) {
        let Some(t) = self.current_tree(mid) else {
            return;
        };
        t.share_type = match share_type {
            1 => "DISK".to_string(),
            2 => "PIPE".to_string(),
            3 => "PRINT".to_string(),
            n => format!("unknown-{n}"),
        };
        let rec = SmbMappingRecord {
            ts: t.ts,
            uid: s.conn.uid.clone(),
            id: s.conn.id,
            path: t.path.clone(),
            service: None,
            native_file_system: None,
            share_type: t.share_type.clone(),
        };
        s.emit(EventBody::SmbMapping(rec));
    }

    pub fn tree_disconnect(&mut self, mid: u64, tid: u32) {
        if self.tree(tid).is_some() {
            self.trees.retain(|(t, _)| *t != tid);
            if let Some(c) = self.cmd(mid) {
                c.tree = TreeRef::Unset;
            }
        }
    }

    /// `smb_pipe_connect_heuristic`: a known pipe opened on a tree whose
    /// connect was not seen.
    pub fn pipe_heuristic(&mut self, mid: u64) {
        if let Some(t) = self.current_tree(mid) {
            t.path = Some("<unknown>".to_string());
            t.share_type = "PIPE".to_string();
        }
    }

    pub fn create_request(&mut self, mid: u64, name: String) {
        let share = self.share_type(mid);
        if let Some(f) = self.current_file(mid) {
            f.name = Some(if name.is_empty() {
                "<share_root>".to_string()
            } else {
                name
            });
            f.action = Some(Action::by_share(
                &share,
                [Action::FileOpen, Action::PipeOpen, Action::PrintOpen],
            ));
        }
    }

    pub fn create_response(&mut self, s: &mut Session<'_>, mid: u64, c: &Created) {
        self.set_current_file(mid, c.fid);
        let path = self.current_tree(mid).and_then(|t| t.path.clone());
        if let Some(f) = self.current_file(mid) {
            f.size = c.size;
            if path.is_some() {
                f.path = path;
            }
            // Pipes report no times (Zeek: "negative data from IPC").
            if filetime(c.times[0]) > 0.0 {
                f.times = Some(c.times);
            }
        }
        self.write_current(s, mid);
    }

    /// A read, write or set-attribute request on file `fid`.
    pub fn file_action(&mut self, s: &mut Session<'_>, mid: u64, fid: u64, actions: [Action; 3]) {
        self.set_current_file(mid, fid);
        let share = self.share_type(mid);
        if let Some(f) = self.current_file(mid) {
            f.action = Some(Action::by_share(&share, actions));
        }
        self.write_current(s, mid);
    }

    pub fn rename(&mut self, s: &mut Session<'_>, mid: u64, fid: u64, name: String) {
        self.set_current_file(mid, fid);
        if let Some(f) = self.current_file(mid) {
            if f.name.is_some() {
                f.prev_name = f.name.take();
            }
            f.name = Some(name);
            f.action = Some(Action::FileRename);
        }
        self.write_current(s, mid);
    }

    pub fn delete(&mut self, s: &mut Session<'_>, mid: u64, fid: u64, pending: bool) {
        self.set_current_file(mid, fid);
        if pending {
            if let Some(f) = self.current_file(mid) {
                f.action = Some(Action::FileDelete);
            }
        }
        self.write_current(s, mid);
    }

    pub fn close(&mut self, s: &mut Session<'_>, mid: u64, fid: u64) {
        self.set_current_file(mid, fid);
        let share = self.share_type(mid);
        let path = self.current_tree(mid).and_then(|t| t.path.clone());
        let Some(k) = self.files.iter().position(|(f, _)| *f == fid) else {
            return;
        };
        let (_, mut f) = self.files.remove(k);
        f.action = Some(Action::by_share(
            &share,
            [Action::FileClose, Action::PipeClose, Action::PrintClose],
        ));
        if path.is_some() {
            f.path = path;
        }
        // The command keeps its reference to the closed file.
        if let Some(c) = self.cmd(mid) {
            c.file = FileRef::Own(f.clone());
        }
        self.write(s, &f);
    }

    /// File contents went by for command `mid` (a read response, a write
    /// request): Zeek's `file_over_new_connection` writes the file's row
    /// once more, the first time.
    pub fn file_data(&mut self, s: &mut Session<'_>, mid: u64) {
        let Some(f) = self.current_file(mid) else {
            return;
        };
        if f.data_seen {
            return;
        }
        f.data_seen = true;
        self.write_current(s, mid);
    }

    fn write_current(&mut self, s: &mut Session<'_>, mid: u64) {
        if let Some(f) = self.current_file(mid).cloned() {
            self.write(s, &f);
        }
    }

    /// Zeek's `write_file_log`: named files with a logged action, once per
    /// identity (action, name, path, size, times but the access time).
    fn write(&mut self, s: &mut Session<'_>, f: &File) {
        let (Some(name), Some(action)) = (&f.name, f.action) else {
            return;
        };
        if !action.logged() {
            return;
        }
        if let Some(t) = f.times {
            let key = format!(
                "{}|{}|{name}|{}|{}|{}|{}|{}",
                action.name(),
                f.data_seen,
                f.path.as_deref().unwrap_or(""),
                f.size,
                t[0],
                t[2],
                t[3]
            );
            self.recent.retain(|(_, at)| s.ts - *at <= RECENT_EXPIRE_NS);
            if let Some(e) = self.recent.iter_mut().find(|(k, _)| *k == key) {
                e.1 = s.ts;
                return;
            }
            if self.recent.len() >= MAX_RECENT {
                self.recent.remove(0);
            }
            self.recent.push((key, s.ts));
        }
        let times = f.times.map(|t| t.map(filetime));
        s.emit(EventBody::SmbFiles(SmbFilesRecord {
            ts: f.ts,
            uid: s.conn.uid.clone(),
            id: s.conn.id,
            action: Some(action.name().to_string()),
            path: f.path.clone(),
            name: Some(name.clone()),
            size: f.size,
            prev_name: f.prev_name.clone(),
            times_modified: times.map(|t| t[0]),
            times_accessed: times.map(|t| t[1]),
            times_created: times.map(|t| t[2]),
            times_changed: times.map(|t| t[3]),
        }));
    }
}
