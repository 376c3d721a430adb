"""The page's inline style sheet and script (no network: nothing is fetched from anywhere).

The script filters the question entries (system, ASR-error split, passage-WER bucket,
correct/wrong) and plays a passage's audio from a span's start to its end. A passage may be
several audio files (its utterances, doc/design.md); the player maps passage time onto them.
``window.speechbertReport`` exposes the same functions to the browser test.
"""

STYLE = """
body{font-family:sans-serif;margin:1em 2em;color:#222}
table.results{border-collapse:collapse;font-size:90%}
table.results th,table.results td{border:1px solid #bbb;padding:2px 6px;text-align:right}
table.results td:first-child,table.results th:first-child{text-align:left}
#filters{position:sticky;top:0;background:#f4f4f4;padding:6px;border-bottom:1px solid #ccc;z-index:1}
section.passage{border-top:2px solid #888;margin-top:1.5em}
.words{font-size:85%;line-height:1.5;margin:2px 0}
.words .w.err{background:#fbb;text-decoration:underline}
.words .label{font-weight:bold;margin-right:4px}
article.q{margin:8px 0 8px 1em;padding:4px;border-left:4px solid #ccc}
article.q .question{font-weight:bold;margin:2px 0}
article.q .answer{margin:2px 0}
svg.spans .span.ref{fill:#2a7;fill-opacity:.35;stroke:#2a7}
svg.spans .span.pred{fill:#36c}
svg.spans .span.pred.correct{fill:#2a7}
svg.spans .span.pred.wrong{fill:#d44}
svg.spans text{font-size:11px}
svg.spans .wave{fill:#999}
button.play{margin-right:4px;font-size:80%}
svg.chart text{font-size:11px}
"""

SCRIPT = r"""
(function () {
  'use strict';
  var players = new Map();

  function state(audio) {
    if (!players.has(audio)) {
      players.set(audio, {tracks: JSON.parse(audio.dataset.tracks), k: 0, stopAt: null});
      audio.addEventListener('timeupdate', function () { onTime(audio); });
      audio.addEventListener('ended', function () { onEnded(audio); });
    }
    return players.get(audio);
  }

  function passageTime(audio) {
    var s = state(audio);
    return s.tracks[s.k][1] + audio.currentTime;
  }

  function trackAt(s, t) {
    var k = 0;
    for (var i = 0; i < s.tracks.length; i++) { if (s.tracks[i][1] <= t) { k = i; } }
    return k;
  }

  function ready(audio) {
    return new Promise(function (resolve) {
      if (audio.readyState >= 1) { resolve(); return; }
      audio.addEventListener('loadedmetadata', function () { resolve(); }, {once: true});
      audio.preload = 'auto';
      audio.load();
    });
  }

  function load(audio, k) {
    var s = state(audio);
    if (s.k !== k || !audio.getAttribute('src')) {
      s.k = k;
      audio.setAttribute('src', s.tracks[k][0]);
    }
    return ready(audio);
  }

  function seek(audio, t) {
    var s = state(audio);
    var k = trackAt(s, t);
    return load(audio, k).then(function () {
      audio.currentTime = Math.max(0, t - s.tracks[k][1]);
    });
  }

  function play(audio) {
    var p = audio.play();
    if (p && p.catch) { p.catch(function () {}); }  // autoplay refused: the user presses play
  }

  function playSpan(audio, start, end) {
    var s = state(audio);
    audio.pause();
    s.stopAt = end;
    return seek(audio, start).then(function () { play(audio); });
  }

  function onTime(audio) {
    var s = state(audio);
    if (s.stopAt !== null && passageTime(audio) >= s.stopAt) { audio.pause(); s.stopAt = null; }
  }

  function onEnded(audio) {
    var s = state(audio);
    if (s.k + 1 < s.tracks.length && (s.stopAt === null || passageTime(audio) < s.stopAt)) {
      load(audio, s.k + 1).then(function () { audio.currentTime = 0; play(audio); });
    }
  }

  function value(id) { return document.getElementById(id).value; }

  function applyFilters() {
    var sys = value('f-system'), split = value('f-split'), wer = value('f-wer'), outcome = value('f-outcome');
    var shown = 0;
    document.querySelectorAll('article.q').forEach(function (q) {
      var systems = q.dataset.systems.split(' ').filter(Boolean);
      var correct = q.dataset.correct.split(' ').filter(Boolean);
      var ok = true;
      if (split === 'asr_error') { ok = ok && q.dataset.asrError === '1'; }
      if (split === 'no_asr_error') { ok = ok && q.dataset.asrError === '0'; }
      if (wer !== '') { ok = ok && q.dataset.werBucket === wer; }
      if (sys !== '') {
        ok = ok && systems.indexOf(sys) >= 0;
        if (outcome === 'correct') { ok = ok && correct.indexOf(sys) >= 0; }
        if (outcome === 'wrong') { ok = ok && correct.indexOf(sys) < 0; }
      } else {
        if (outcome === 'correct') { ok = ok && correct.length > 0; }
        if (outcome === 'wrong') { ok = ok && correct.length === 0; }
      }
      q.hidden = !ok;
      if (ok) { shown++; }
      q.querySelectorAll('[data-sys]').forEach(function (el) {
        el.style.display = (sys === '' || el.dataset.sys === sys) ? '' : 'none';
      });
    });
    document.querySelectorAll('section.passage').forEach(function (p) {
      p.hidden = p.querySelector('article.q:not([hidden])') === null;
    });
    document.getElementById('shown-count').textContent = String(shown);
    return shown;
  }

  document.addEventListener('DOMContentLoaded', function () {
    ['f-system', 'f-split', 'f-wer', 'f-outcome'].forEach(function (id) {
      document.getElementById(id).addEventListener('change', applyFilters);
    });
    document.querySelectorAll('button.play').forEach(function (b) {
      b.addEventListener('click', function () {
        var audio = b.closest('section.passage').querySelector('audio');
        playSpan(audio, parseFloat(b.dataset.start), parseFloat(b.dataset.end));
      });
    });
    applyFilters();
  });

  window.speechbertReport = {applyFilters: applyFilters, passageTime: passageTime, playSpan: playSpan};
})();
"""
