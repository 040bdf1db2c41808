// Reference peer for bench/run.sh: the smallest useful socket.io broadcast server.
// Every client joins one room; each incoming "send" is emitted to the whole room as "message"
// (the same event names Parlor uses), and acknowledged when the client asks for an ack.
import { createServer } from "node:http";
import { Server } from "socket.io";

const port = Number(process.argv[2] ?? 8090);
const httpServer = createServer();
const io = new Server(httpServer, {
  serveClient: false,
  perMessageDeflate: false,
  httpCompression: false,
});

io.on("connection", (socket) => {
  socket.join("room");
  socket.on("send", (data, ack) => {
    io.to("room").emit("message", data);
    if (typeof ack === "function") ack({ ok: true });
  });
});

httpServer.listen(port, "127.0.0.1", () => {
  console.log(`socket.io peer listening on http://127.0.0.1:${port}`);
});
