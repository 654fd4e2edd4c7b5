const inspector = require('node:inspector');
const fs = require('node:fs');
const s = new inspector.Session(); s.connect();
s.post('Profiler.enable', () => s.post('Profiler.setSamplingInterval', { interval: 100 }, () => s.post('Profiler.start')));
process.on('exit', () => { s.post('Profiler.stop', (err, { profile }) => { fs.writeFileSync(`/work/main/bench/tmp/daemon-${process.pid}.cpuprofile`, JSON.stringify(profile)); }); });
