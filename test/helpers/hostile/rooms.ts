import type { Frame, PeerEntry } from './attacker.js';
import type { HostileClient } from './server.js';

interface RoomsHost {
  client(name: string): HostileClient | undefined;
  entryFor(viewer: string, name: string): PeerEntry | undefined;
  observe(from: string, frame: Frame): void;
}

/** What a test may do with a room message before it is fanned out. */
export type RoomMessageHook = (from: HostileClient, frame: Frame) => 'forward' | 'drop';

/**
 * Rooms on the hostile server: honest membership (who joined), member lists built per
 * viewer (so directory lies show up in them too), fan-out of room messages, and `ghosts`:
 * names the server adds to the member lists it reports without anyone joining.
 */
export class HostileRooms {
  onMessage: RoomMessageHook | undefined;
  readonly #host: RoomsHost;
  /** Room (lower case) → display name and member names (lower case → as typed). */
  readonly #rooms = new Map<string, { name: string; members: Map<string, string> }>();
  /** Extra members shown to a viewer: `viewer|room` → name → entry. */
  readonly #ghosts = new Map<string, Map<string, PeerEntry>>();
  /** Members hidden from a viewer: `viewer|room` → names. */
  readonly #hidden = new Map<string, Set<string>>();

  constructor(host: RoomsHost) {
    this.#host = host;
  }

  /** From now on, `viewer` sees `name` (with `entry`) in `room` although nobody joined. */
  addGhost(viewer: string, room: string, name: string, entry: PeerEntry): void {
    const key = `${viewer.toLowerCase()}|${room.toLowerCase()}`;
    const ghosts = this.#ghosts.get(key) ?? new Map<string, PeerEntry>();
    ghosts.set(name, entry);
    this.#ghosts.set(key, ghosts);
  }

  removeGhost(viewer: string, room: string, name: string): void {
    this.#ghosts.get(`${viewer.toLowerCase()}|${room.toLowerCase()}`)?.delete(name);
  }

  /** From now on, `viewer` does not see `name` in `room` (they stay a member). */
  hide(viewer: string, room: string, name: string): void {
    const key = `${viewer.toLowerCase()}|${room.toLowerCase()}`;
    const hidden = this.#hidden.get(key) ?? new Set<string>();
    hidden.add(name.toLowerCase());
    this.#hidden.set(key, hidden);
  }

  /** The member list `viewer` is told for `room`. */
  membersFor(viewer: string, room: string): Record<string, PeerEntry> {
    const key = `${viewer.toLowerCase()}|${room.toLowerCase()}`;
    const hidden = this.#hidden.get(key) ?? new Set<string>();
    const out: Record<string, PeerEntry> = {};
    const state = this.#rooms.get(room.toLowerCase());
    for (const [lower, name] of state?.members ?? []) {
      const entry = this.#host.entryFor(viewer, name);
      if (entry && !hidden.has(lower)) out[name] = entry;
    }
    for (const [name, entry] of this.#ghosts.get(key) ?? []) out[name] = entry;
    return out;
  }

  /** Sends `viewer` an unrequested `joined` snapshot of `room` (a refresh it never asked for). */
  pushSnapshot(viewer: string, room: string): void {
    this.#host.client(viewer)?.send({
      type: 'joined',
      room: this.#rooms.get(room.toLowerCase())?.name ?? room,
      topic: '',
      members: this.membersFor(viewer, room),
    });
  }

  leaveAll(name: string): void {
    for (const state of this.#rooms.values()) {
      if (state.members.delete(name.toLowerCase())) this.#broadcast(state.name, 'part', name);
    }
  }

  onFrame(client: HostileClient, frame: Frame): void {
    switch (frame.type) {
      case 'join':
        this.#join(client, String(frame.room), frame.id as string | undefined);
        return;
      case 'part': {
        const state = this.#rooms.get(String(frame.room).toLowerCase());
        if (!state?.members.has(client.name.toLowerCase())) return;
        this.#broadcast(state.name, 'part', client.name);
        state.members.delete(client.name.toLowerCase());
        return;
      }
      case 'who':
        client.send({
          type: 'who',
          room: String(frame.room),
          members: this.membersFor(client.name, String(frame.room)),
        });
        return;
      case 'roommsg':
        this.#message(client, frame);
        return;
      default:
        return;
    }
  }

  #join(client: HostileClient, room: string, id: string | undefined): void {
    const state = this.#rooms.get(room.toLowerCase()) ?? { name: room, members: new Map() };
    this.#rooms.set(room.toLowerCase(), state);
    state.members.set(client.name.toLowerCase(), client.name);
    client.send({
      type: 'joined',
      room: state.name,
      topic: '',
      members: this.membersFor(client.name, room),
      ...(id ? { id } : {}),
    });
    this.#broadcast(state.name, 'join', client.name, client.name);
  }

  /** A `room` event to every member (except `skip`), with the entry each viewer is told. */
  #broadcast(room: string, event: 'join' | 'part', user: string, skip?: string): void {
    const state = this.#rooms.get(room.toLowerCase());
    for (const member of state?.members.values() ?? []) {
      if (skip && member.toLowerCase() === skip.toLowerCase()) continue;
      const entry = this.#host.entryFor(member, user);
      this.#host.client(member)?.send({
        type: 'room',
        event,
        room,
        user,
        ...(event === 'join' && entry ? { peer: entry } : {}),
      });
    }
  }

  #message(from: HostileClient, frame: Frame): void {
    this.#host.observe(from.name, frame);
    if ((this.onMessage?.(from, frame) ?? 'forward') === 'drop') return;
    const state = this.#rooms.get(String(frame.room).toLowerCase());
    for (const member of state?.members.values() ?? []) {
      if (member.toLowerCase() === from.name.toLowerCase()) continue;
      this.#host.client(member)?.send({ ...frame, from: from.name });
    }
    if (frame.id !== undefined) from.send({ type: 'ack', id: frame.id });
  }
}
