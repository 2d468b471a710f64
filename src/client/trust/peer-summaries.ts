import { nameKey, type RoomMemberInfo } from '../../protocol/index.js';
import type { PeerSummary } from '../events.js';
import type { PeerBook, PeerStatus } from './peer-book.js';
import { fingerprintOfKey } from './trust-store.js';

/** The coarse status /list shows for a peer's standing. */
export function summaryStatus(status: PeerStatus): PeerSummary['status'] {
  switch (status) {
    case 'legacy':
      return 'legacy';
    case 'verified':
      return 'verified';
    case 'changed':
    case 'invalid':
      return 'changed';
    default:
      return 'online';
  }
}

/**
 * One row of /list or a room's member list: the directory's view of `name` when it is
 * listed there, else what the room member entry says.
 */
export function peerSummary(
  peers: PeerBook,
  self: string,
  name: string,
  member?: RoomMemberInfo,
): PeerSummary {
  const isSelf = nameKey(name) === nameKey(self);
  const peer = peers.get(name);
  const status: PeerStatus = isSelf
    ? 'known'
    : peer
      ? peers.status(peer)
      : member?.idk
        ? 'new'
        : 'legacy';
  const fingerprint =
    peer?.identityFingerprint ??
    peer?.fingerprint ??
    (member?.idk ? fingerprintOfKey(member.idk) : undefined) ??
    '';
  return {
    name: peer?.name ?? name,
    fingerprint,
    status: summaryStatus(status),
    ...(isSelf ? { self: true } : {}),
    ...(member?.role ? { role: member.role } : {}),
  };
}
