/** Baseline (a): a bare express 5 app with express.json() answering 202, storing nothing. */
const express = require('express');
const { randomUUID } = require('node:crypto');

const app = express();
app.use(express.json({ limit: '1mb', strict: false }));
app.post('/v1.0/event/:type', (req, res) => {
  res.status(202).json({ event_id: `evt_${randomUUID()}` });
});
app.get('/readyz', (_req, res) => res.json({ status: 'ready' }));
app.listen(Number(process.env.PORT), '127.0.0.1');
