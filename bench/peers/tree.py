#!/usr/bin/env python3
"""tree.py: copy a real tree of the machine as a base tree every tool can take whole.

  tree.py SOURCE DEST     copy; prints one JSON line of what was kept and dropped

Only regular files the current user can read are copied, with their executable bit.
Symbolic links are dropped, not followed (following them duplicates files, can leave
the tree or loop, and netsync does not record links yet); so are sockets, pipes,
devices, unreadable files and folders, and names that are not valid UTF-8 or hold a
control character or a backslash (not every tool takes those). Empty folders are
not made (git and fossil record no folders). Every tool then gets exactly these
files, so what each clones is the same.
"""
import json, os, shutil, stat, sys


def clean_name(name):
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:   # a name that is not UTF-8 (os.fsdecode's surrogates)
        return False
    return "\\" not in name and not any(ord(c) < 32 or ord(c) == 127 for c in name)


def copy(source, dest):
    kept = {"files": 0, "bytes": 0}
    dropped = {"symlinks": 0, "special": 0, "unreadable": 0, "names": 0}
    for root, dirs, files in os.walk(source):
        rel = os.path.relpath(root, source)
        keep_dirs = []
        for d in sorted(dirs):
            p = os.path.join(root, d)
            if not clean_name(d):
                dropped["names"] += 1
            elif os.path.islink(p):
                dropped["symlinks"] += 1
            elif not os.access(p, os.R_OK | os.X_OK):
                dropped["unreadable"] += 1
            else:
                keep_dirs.append(d)
        dirs[:] = keep_dirs   # os.walk descends only into these
        for f in sorted(files):
            p = os.path.join(root, f)
            st = os.lstat(p)
            if not clean_name(f):
                dropped["names"] += 1
            elif stat.S_ISLNK(st.st_mode):
                dropped["symlinks"] += 1
            elif not stat.S_ISREG(st.st_mode):
                dropped["special"] += 1
            elif not os.access(p, os.R_OK):
                dropped["unreadable"] += 1
            else:
                out = os.path.normpath(os.path.join(dest, rel, f))
                os.makedirs(os.path.dirname(out), exist_ok=True)
                shutil.copyfile(p, out)
                os.chmod(out, 0o755 if st.st_mode & 0o111 else 0o644)
                kept["files"] += 1
                kept["bytes"] += st.st_size
    return {"source": source, "kept": kept, "dropped": dropped}


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    if os.path.exists(sys.argv[2]):
        sys.exit(f"tree.py: {sys.argv[2]} exists; give a fresh DEST")
    print(json.dumps(copy(sys.argv[1], sys.argv[2])))
