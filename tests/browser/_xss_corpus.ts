/**
 * The XSS corpus the browser tests seed into audit rows, article bodies, titles
 * and form fields. Every payload, if it ever ran, would set the sentinel
 * `window.__xss` or open a dialog — which the tests watch for. Classic vectors
 * (script tags, event handlers, `javascript:` URLs, SVG) and mutation-XSS
 * vectors that survive naive sanitisers by changing meaning when the browser
 * re-parses serialised HTML (namespace confusion in `math`/`svg`, `noscript`,
 * `style` and `textarea` raw-text tricks), after the public DOMPurify bypass
 * write-ups and the OWASP XSS filter evasion cheat sheet.
 *
 * @module
 */

/** HTML payloads. */
export const HTML_PAYLOADS: readonly string[] = [
  `<script>window.__xss=1</script>`,
  `<script src="data:text/javascript,window.__xss=1"></script>`,
  `"><script>window.__xss=1</script>`,
  `'><img src=x onerror="window.__xss=1">`,
  `<img src=x onerror=alert(1)>`,
  `<svg onload="window.__xss=1"></svg>`,
  `<svg><script>window.__xss=1</script></svg>`,
  `<svg><animate onbegin="window.__xss=1" attributeName=x dur=1s>`,
  `<svg><a xlink:href="javascript:window.__xss=1"><text x=20 y=20>svg link</text></a></svg>`,
  `<a href="javascript:window.__xss=1">javascript link</a>`,
  `<a href="JaVaScRiPt&colon;window.__xss=1">entity link</a>`,
  `<iframe srcdoc="<script>parent.__xss=1</script>"></iframe>`,
  `<iframe src="javascript:parent.__xss=1"></iframe>`,
  `<object data="javascript:window.__xss=1"></object>`,
  `<embed src="javascript:window.__xss=1">`,
  `<details open ontoggle="window.__xss=1">details</details>`,
  `<input autofocus onfocus="window.__xss=1">`,
  `<body onload="window.__xss=1">`,
  `<style>@import "javascript:window.__xss=1";</style>`,
  `<meta http-equiv="refresh" content="0;url=javascript:window.__xss=1">`,
  `<base href="javascript:window.__xss=1//">`,
  `<form action="javascript:window.__xss=1"><button>go</button></form>`,
  // mutation XSS: each re-parses into an <img onerror> after a round trip through innerHTML
  `<noscript><p title="</noscript><img src=x onerror=window.__xss=1>">`,
  `<math><mtext><table><mglyph><style><img src=x onerror=window.__xss=1>`,
  `<svg></p><style><a id="</style><img src=1 onerror=window.__xss=1>">`,
  `<form><math><mtext></form><form><mglyph><style></math><img src onerror=window.__xss=1>`,
  `<math><mtext><h1><a><h6></a></h6><mglyph><svg><mtext><style><a title="</style><img src onerror=window.__xss=1>">`,
  `<textarea></textarea><img src=x onerror=window.__xss=1>`,
  `<title><img src=x onerror=window.__xss=1></title>`,
  `<!--><img src=x onerror=window.__xss=1>-->`,
  `<div id="x" style="background:url(javascript:window.__xss=1)">styled</div>`,
  `\u003cimg src=x onerror=window.__xss=1\u003e`,
];

/** Markdown-specific payloads (links and images are where markdown makes URLs). */
export const MARKDOWN_PAYLOADS: readonly string[] = [
  `[markdown link](javascript:window.__xss=1)`,
  `[encoded link](javas&#99;ript:window.__xss=1)`,
  `![markdown image](javascript:window.__xss=1)`,
  `[data link](data:text/html;base64,PHNjcmlwdD53aW5kb3cuX194c3M9MTwvc2NyaXB0Pg==)`,
  `<javascript:window.__xss=1>`,
  `[ref link][r]\n\n[r]: javascript:window.__xss=1`,
];

/** A title that tries it all in 200 code points. */
export const XSS_TITLE =
  `<script>window.__xss=1</script><img src=x onerror=window.__xss=1>"'><svg onload=alert(1)>`;
