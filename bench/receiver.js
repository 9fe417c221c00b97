// A webhook receiver for measurements: answers 204 to every POST at once and counts them.
//   node bench/receiver.js 3490      # then POST /api/webhooks {"url": "http://127.0.0.1:3490/"}
const http = require("node:http");
let received = 0;
http
  .createServer((req, res) => {
    req.on("data", () => {});
    req.on("end", () => {
      received += 1;
      res.writeHead(204).end();
    });
  })
  .listen(Number(process.argv[2] || 3490), "127.0.0.1");
setInterval(() => process.stderr.write(`received ${received}\n`), 5000).unref();
