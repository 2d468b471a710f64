/**
 * The bare forwarder's work per connection (bench/bare-forwarder.mjs, and on our listener
 * bench/admission-floor.mjs): learn the name from the hello with one JSON.parse, write a
 * fixed welcome, then forward each relay line to the socket named by its `to`. No
 * validation, no limits. `users`: name → socket, shared by the process's connections.
 */
export function bareConnection(users) {
  return (socket) => {
    let name;
    let buffer = '';
    socket.setEncoding('latin1');
    socket.setNoDelay(true);
    socket.on('data', (chunk) => {
      buffer += chunk;
      let start = 0;
      let newline = buffer.indexOf('\n');
      while (newline !== -1) {
        const line = buffer.slice(start, newline);
        start = newline + 1;
        if (name === undefined) {
          name = JSON.parse(line).user;
          users.set(name, socket);
          socket.write(`{"type":"welcome","users":{}}\n`);
        } else {
          const to = /"to":"([^"]+)"/.exec(line)?.[1];
          users.get(to)?.write(`${line}\n`);
        }
        newline = buffer.indexOf('\n', start);
      }
      buffer = buffer.slice(start);
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      if (users.get(name) === socket) users.delete(name);
    });
  };
}
