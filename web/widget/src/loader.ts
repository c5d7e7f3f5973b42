// The snippet a clinic puts on its page loads this file only: a launcher button in a shadow
// root (the page's CSS cannot reach in, ours cannot leak out). Nothing is stored and nothing is
// asked of the platform until the visitor opens the chat; then the chat itself (the stock
// phoenix client and the conversation view) is imported from beside this file.
//
//   <script src="https://api.example/widget/widget.js" data-tenant="zambet-dental-cluj" async></script>
//
// Attributes: data-tenant (required), data-locale (the tenant's language, used when the
// visitor's browser asks for neither Romanian nor English), data-accent
// (a CSS colour), data-theme (light|dark; else the visitor's preference), data-api (default:
// where this file came from), data-ws (default: the API's host, path /socket).

import { config, type WidgetConfig } from "./config";
import { LAUNCHER_CSS } from "./styles";
import { storedSession } from "./storage";

declare const __CHAT_FILE__: string;

interface ChatModule {
  mount(root: ShadowRoot, cfg: WidgetConfig, close: () => void): { focus(): void; hide(): void; show(): void };
}

function start(script: HTMLScriptElement): void {
  const cfg = config(script, navigator.languages ?? [navigator.language]);
  const host = document.createElement("simptu-chat");
  host.setAttribute("data-tenant", cfg.tenant);
  const root = host.attachShadow({ mode: "open" });
  root.innerHTML = `<style>${LAUNCHER_CSS}</style>`;
  host.style.setProperty("--simptu-accent", cfg.accent);
  if (cfg.theme) host.setAttribute("data-theme", cfg.theme);
  const launcher = document.createElement("button");
  launcher.className = "launcher";
  launcher.type = "button";
  launcher.setAttribute("aria-label", cfg.text.open);
  launcher.setAttribute("aria-expanded", "false");
  launcher.innerHTML = '<svg viewBox="0 0 24 24" width="28" height="28" aria-hidden="true" focusable="false"><path fill="currentColor" d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H8l-4 4V6a2 2 0 0 1 2-2z"/></svg>';
  root.append(launcher);

  let chat: ReturnType<ChatModule["mount"]> | undefined;
  const close = (): void => {
    chat?.hide();
    launcher.hidden = false;
    launcher.setAttribute("aria-expanded", "false");
    launcher.focus();
  };
  const open = async (): Promise<void> => {
    launcher.setAttribute("aria-busy", "true");
    if (!chat) {
      const module = (await import(/* @vite-ignore */ new URL(__CHAT_FILE__, cfg.assets).href)) as ChatModule;
      chat = module.mount(root, cfg, close);
    }
    launcher.removeAttribute("aria-busy");
    launcher.setAttribute("aria-expanded", "true");
    launcher.hidden = true;
    chat.show();
    chat.focus();
  };
  launcher.addEventListener("click", () => void open());
  document.body.append(host);
  performance.mark("simptu-launcher-shown");
  // A visitor who had the chat open (reload, another page of the site) finds it open again.
  if (storedSession(cfg.tenant)?.open) void open();
}

const script = document.currentScript as HTMLScriptElement | null;
if (script) {
  if (document.body) start(script);
  else document.addEventListener("DOMContentLoaded", () => start(script));
}
