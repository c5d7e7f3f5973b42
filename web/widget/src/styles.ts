// The widget's CSS, inside its shadow root. The launcher's is loaded with the page; the panel's
// only when the visitor opens the chat.

export const LAUNCHER_CSS = `
:host{all:initial;--simptu-accent:#0b5cad;--bg:#fff;--fg:#1b1b1f;--muted:#55575e;--line:#c7c9d1;--mine:#e8f0fb;
 font:16px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg)}
@media (prefers-color-scheme:dark){:host(:not([data-theme=light])){--bg:#1c1d21;--fg:#f1f1f4;--muted:#b9bbc4;--line:#4a4c55;--mine:#23324a}}
:host([data-theme=dark]){--bg:#1c1d21;--fg:#f1f1f4;--muted:#b9bbc4;--line:#4a4c55;--mine:#23324a}
button{font:inherit;cursor:pointer;min-width:24px;min-height:24px}
:focus-visible{outline:3px solid var(--simptu-accent);outline-offset:2px;box-shadow:0 0 0 5px #fff}
.launcher{position:fixed;right:20px;bottom:20px;z-index:2147483000;width:56px;height:56px;border-radius:50%;
 border:0;background:var(--simptu-accent);color:#fff;box-shadow:0 4px 14px rgba(0,0,0,.3);display:grid;place-items:center}
.launcher[hidden]{display:none}
`;

export const CHAT_CSS = `
.panel{position:fixed;right:20px;bottom:20px;z-index:2147483000;width:370px;height:min(600px,calc(100vh - 40px));
 display:flex;flex-direction:column;background:var(--bg);color:var(--fg);border:1px solid var(--line);border-radius:12px;
 box-shadow:0 8px 30px rgba(0,0,0,.3);overflow:hidden}
.panel[hidden]{display:none}
header{display:flex;align-items:center;gap:8px;padding:10px 12px;background:var(--simptu-accent);color:#fff}
header h2{flex:1;margin:0;font-size:17px}
header button{background:transparent;color:#fff;border:0;width:36px;height:36px;border-radius:6px;font-size:22px;line-height:1}
.status{padding:4px 12px;font-size:14px;color:var(--muted);min-height:20px}
.log{flex:1;overflow-y:auto;padding:8px 12px;display:flex;flex-direction:column;gap:8px;overscroll-behavior:contain}
.msg{max-width:85%;padding:8px 11px;border-radius:12px;white-space:pre-wrap;overflow-wrap:anywhere;border:1px solid var(--line)}
.msg.customer{align-self:flex-end;background:var(--mine)}
.msg.agent,.msg.staff{align-self:flex-start}
.who{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}
.card{align-self:flex-start;border:1px solid var(--line);border-radius:12px;padding:10px;max-width:90%}
.card p{margin:0 0 8px}
.card .choices{display:flex;flex-wrap:wrap;gap:8px}
.card button{border:1px solid var(--simptu-accent);background:var(--bg);color:var(--fg);border-radius:8px;padding:8px 12px;min-height:44px}
.card button.primary{background:var(--simptu-accent);color:#fff}
.card button:disabled{opacity:.6;cursor:default}
form{display:flex;gap:8px;padding:10px 12px;border-top:1px solid var(--line)}
textarea{flex:1;font:inherit;font-size:16px;resize:none;border:1px solid var(--line);border-radius:8px;padding:8px;
 background:var(--bg);color:var(--fg);height:44px;box-sizing:border-box}
form button{border:0;border-radius:8px;padding:0 14px;background:var(--simptu-accent);color:#fff;min-height:44px}
@media (max-width:480px){.panel{inset:0;width:auto;height:100vh;height:100dvh;border-radius:0;border:0}}
`;
