import type { Redis } from 'ioredis';
import { encodeRoomEvent, nameKey } from '../../protocol/index.js';
import type { Logger } from '../logger.js';
import type { RemovalEvent, RoomBus, RoomBusHandler } from '../rooms/room-host.js';
import { LuaScript, type RedisKeys } from '../store/redis/scripts.js';

type BusMessage =
  | { op: 'line'; from: string; key: string; line: string; essential: boolean; except?: string }
  | {
      op: 'remove';
      from: string;
      to: string;
      key: string;
      name: string;
      event: RemovalEvent;
      by?: string;
      reason?: string;
    };

/** Removes a dead node's members of one room; returns their names. KEYS: members. ARGV: node. */
const REAP_MEMBERS = new LuaScript(`
local all = redis.call('HGETALL', KEYS[1])
local gone = {}
for i = 1, #all, 2 do
  local e = cjson.decode(all[i + 1])
  if e.node == ARGV[1] then
    redis.call('HDEL', KEYS[1], all[i])
    table.insert(gone, e.name)
  end
end
return gone`);

/**
 * Rooms spanning the nodes: who is in a room, on which node, is a hash per room
 * (`roommembers:<room>`); a membership event or room message is fanned out by the node
 * it starts on to its own members and published once on the rooms channel, and every other
 * node writes it to its own members. A kick or ban of a member on another node goes on that
 * node's stream (acknowledged), which removes it (and publishes the event like any other).
 * After its subscription restarts, a node sends its members the rooms' state again.
 */
export class ClusterRooms implements RoomBus {
  #redis: Redis;
  #keys: RedisKeys;
  #node: string;
  #logger: Logger;
  #handler: RoomBusHandler | undefined;
  #post: (node: string, json: string) => Promise<void>;
  published = 0;

  constructor(options: {
    redis: Redis;
    keys: RedisKeys;
    node: string;
    logger: Logger;
    /** Sends to one node on its acknowledged stream (survives a dropped subscription). */
    post: (node: string, json: string) => Promise<void>;
  }) {
    this.#post = options.post;
    this.#redis = options.redis;
    this.#keys = options.keys;
    this.#node = options.node;
    this.#logger = options.logger;
  }

  get channel(): string {
    return this.#keys.key('roombus');
  }

  attach(handler: RoomBusHandler): void {
    this.#handler = handler;
  }

  #members(key: string): string {
    return this.#keys.key('roommembers', key);
  }

  publish(key: string, line: string, essential: boolean, exceptName?: string): void {
    this.published++;
    this.#send({
      op: 'line',
      from: this.#node,
      key,
      line,
      essential,
      ...(exceptName === undefined ? {} : { except: exceptName }),
    });
  }

  #send(message: BusMessage): void {
    this.#redis.publish(this.channel, JSON.stringify(message)).catch((error: unknown) => {
      this.#logger.warn(
        { event: 'cluster.room_publish_failed', err: error },
        'room publish failed',
      );
    });
  }

  async entered(key: string, name: string, memberJson: string): Promise<void> {
    const entry = JSON.stringify({ node: this.#node, name, member: memberJson });
    await this.#redis.hset(this.#members(key), nameKey(name), entry);
    await this.#redis.sadd(this.#keys.key('noderooms', this.#node), key);
  }

  async exited(key: string, name: string): Promise<void> {
    const held = await this.#redis.hget(this.#members(key), nameKey(name));
    if (held && (JSON.parse(held) as { node: string }).node === this.#node)
      await this.#redis.hdel(this.#members(key), nameKey(name));
  }

  async memberCounts(keys: readonly string[]): Promise<number[]> {
    if (keys.length === 0) return [];
    const pipeline = this.#redis.pipeline();
    for (const key of keys) pipeline.hlen(this.#members(key));
    const answers = (await pipeline.exec()) ?? [];
    return answers.map(([error, count]) => (error ? 0 : Number(count)));
  }

  async remoteMembers(key: string): Promise<Array<[string, string]>> {
    const all = await this.#redis.hgetall(this.#members(key));
    const out: Array<[string, string]> = [];
    for (const json of Object.values(all)) {
      const entry = JSON.parse(json) as { node: string; name: string; member: string };
      if (entry.node !== this.#node) out.push([entry.name, entry.member]);
    }
    return out;
  }

  async removeRemote(
    key: string,
    name: string,
    event: RemovalEvent,
    by?: string,
    reason?: string,
  ): Promise<boolean> {
    const held = await this.#redis.hget(this.#members(key), nameKey(name));
    if (!held) return false;
    const entry = JSON.parse(held) as { node: string };
    if (entry.node === this.#node) return false;
    const removal: BusMessage = {
      op: 'remove',
      from: this.#node,
      to: entry.node,
      key,
      name,
      event,
      ...(by === undefined ? {} : { by }),
      ...(reason === undefined ? {} : { reason }),
    };
    // On the node's stream, not the channel: a removal (a ban) must not be lost while that
    // node's subscription is down.
    await this.#post(entry.node, JSON.stringify(removal));
    return true;
  }

  /**
   * The subscription to the rooms channel was lost and is back: what other nodes published
   * meanwhile is gone, so this node's members get the rooms' current state.
   */
  async reload(): Promise<void> {
    await this.#handler?.resync();
  }

  /** A message on the rooms channel. */
  message(json: string): void {
    let message: BusMessage;
    try {
      message = JSON.parse(json) as BusMessage;
    } catch {
      return;
    }
    const handler = this.#handler;
    if (!handler || message.from === this.#node) return;
    if (message.op === 'line') {
      handler.deliver(message.key, message.line, message.essential, message.except);
    } else if (message.op === 'remove' && message.to === this.#node) {
      handler
        .removeLocal(message.key, message.name, message.event, message.by, message.reason)
        .catch((error: unknown) =>
          this.#logger.error(
            { event: 'internal_error', where: 'room_bus', err: error },
            'remote removal failed',
          ),
        );
    }
  }

  /** A node died: its members leave its rooms, every node tells its own members. */
  async reap(node: string): Promise<void> {
    const rooms = await this.#redis.smembers(this.#keys.key('noderooms', node));
    for (const key of rooms) {
      const room = (await this.#redis.hget(this.#keys.key('room', key), 'name')) ?? key;
      const gone = (await REAP_MEMBERS.run(this.#redis, [this.#members(key)], [node])) as string[];
      for (const user of gone) {
        const line = encodeRoomEvent({ event: 'part', room, user, reason: 'server gone' });
        this.publish(key, line, true);
        this.#handler?.deliver(key, line, true);
      }
    }
  }
}
