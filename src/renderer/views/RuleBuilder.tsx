/**
 * The permissions editor's "add a rule" row: grant read (or read and write)
 * on some branches to a key picked from the keys known here (the user's own,
 * the database's, clients that began a session with this server), to any
 * keyed client, to anonymous clients, or to a pasted fingerprint. It adds
 * lines to the text being edited; saving is still the editor's Save.
 */
import { type FormEvent, useId, useState } from 'react';
import type { KnownKey } from '../../shared/api.js';
import { formatFingerprint, parseFingerprint } from '../../shared/fingerprint.js';
import { formatWhen } from '../format.js';
import { useApp } from '../store/context.js';
import { splitPatterns } from '../store/slices/server.js';

/** WHO choices beside the known keys. */
const ANY_KEY = '*';
const ANONYMOUS = 'anonymous';
const PASTE = 'paste';

/** A key as the picker names it: its name (or that it is a client), and enough of its fingerprint to tell it apart. */
function keyLabel(k: KnownKey): string {
  const fp = k.fingerprint.split(' ');
  const short = `${fp.slice(0, 2).join(' ')} … ${fp[fp.length - 1]}`;
  if (k.name) return `${k.name} (${short})`;
  return `client last seen ${k.lastSeen ? formatWhen(k.lastSeen) : 'earlier'} (${short})`;
}

const GROUPS: { source: KnownKey['sources'][number]; label: string }[] = [
  { source: 'own', label: 'Your keys' },
  { source: 'database', label: 'Keys in this database' },
  { source: 'client', label: 'Clients that connected here' },
];

/** A key's name as a key item may carry it (items/format.ts): nothing in it can end the comment line and start a rule. */
const KEY_NAME = /^[A-Za-z0-9][A-Za-z0-9@._+-]*$/;

/** The rule's lines: a comment naming the key when it has a name, then the rule (read and write are two rules). */
function ruleLines(access: 'read' | 'write', who: string, patterns: string[], name: string | null): string[] {
  const comment = name && KEY_NAME.test(name) ? [`# ${name}`] : [];
  const rules = access === 'read' ? [`read ${who} ${patterns.join(' ')}`] : [`read ${who} ${patterns.join(' ')}`, `write ${who} ${patterns.join(' ')}`];
  return [...comment, ...rules];
}

export function RuleBuilder({ onAdd }: { onAdd: (lines: string[]) => void }) {
  const knownKeys = useApp((s) => s.server.knownKeys);
  const [access, setAccess] = useState<'read' | 'write'>('read');
  const [who, setWho] = useState(ANY_KEY);
  const [pasted, setPasted] = useState('');
  const [patterns, setPatterns] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const problemId = useId();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const branches = splitPatterns(patterns);
    const fingerprint = who === PASTE ? parseFingerprint(pasted) : null;
    if (who === PASTE && !fingerprint)
      return setProblem(`The fingerprint "${pasted.trim()}" is not 64 hex digits; paste all 16 groups of 4, as the key's owner reads them.`);
    if (branches.length === 0) return setProblem('No branch is named; type the branches the rule grants, such as org.example.*');
    const known = knownKeys.find((k) => k.fingerprint === who);
    onAdd(ruleLines(access, fingerprint ? formatFingerprint(fingerprint) : who, branches, known?.name ?? null));
    setProblem(null);
    setPasted('');
  };
  return (
    <form className="rule-builder" onSubmit={submit} aria-label="Add a rule" data-testid="rule-builder">
      <label>
        Grant
        <select value={access} onChange={(e) => setAccess(e.target.value as 'read' | 'write')} data-testid="rule-access">
          <option value="read">read</option>
          <option value="write">read and write</option>
        </select>
      </label>
      <label className="grow">
        To
        <select value={who} onChange={(e) => setWho(e.target.value)} data-testid="rule-who">
          <option value={ANY_KEY}>any client with a key (*)</option>
          <option value={ANONYMOUS}>anonymous clients</option>
          {GROUPS.map((g) => {
            const keys = knownKeys.filter((k) => k.sources[0] === g.source);
            return keys.length === 0 ? null : (
              <optgroup key={g.source} label={g.label}>
                {keys.map((k) => (
                  <option key={k.fingerprint} value={k.fingerprint}>
                    {keyLabel(k)}
                  </option>
                ))}
              </optgroup>
            );
          })}
          <option value={PASTE}>a pasted fingerprint…</option>
        </select>
      </label>
      {who === PASTE ? (
        <label className="grow">
          Fingerprint
          <input
            value={pasted}
            onChange={(e) => setPasted(e.target.value)}
            placeholder="3f2a 9b01 … (16 groups of 4)"
            className="mono"
            aria-describedby={problem ? problemId : undefined}
            data-testid="rule-fingerprint"
          />
        </label>
      ) : null}
      <label className="grow">
        Branches
        <input value={patterns} onChange={(e) => setPatterns(e.target.value)} placeholder="org.example.*" data-testid="rule-patterns" />
      </label>
      <button type="submit" data-testid="rule-add">
        Add rule
      </button>
      {problem ? (
        <p id={problemId} className="error-line" role="alert" data-testid="rule-problem">
          {problem}
        </p>
      ) : null}
    </form>
  );
}
