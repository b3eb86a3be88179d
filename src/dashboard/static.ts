/** The dashboard's only static assets: a small stylesheet and the copy-button script (no inline script). */

export const APP_CSS = `
*{box-sizing:border-box}body{font:15px/1.5 system-ui,sans-serif;margin:0;color:#1d2330;background:#f6f7f9}
header{display:flex;gap:1.5rem;align-items:center;padding:.6rem 1.2rem;background:#1d2330;color:#fff}
header nav{display:flex;gap:1rem;align-items:center;flex-wrap:wrap}header a{color:#cfe0ff}
main{max-width:1100px;margin:0 auto;padding:1rem 1.2rem}
table{border-collapse:collapse;width:100%;background:#fff}th,td{border-bottom:1px solid #e3e6ea;padding:.35rem .5rem;text-align:left;vertical-align:top}
form.inline{display:inline}fieldset{border:1px solid #d5d9df;background:#fff;margin:1rem 0}
input,select,button,textarea{font:inherit;padding:.25rem .4rem}
button{cursor:pointer}.danger{background:#b3261e;color:#fff;border:0}
.flash{background:#e7f6ea;border:1px solid #9bd3a6;padding:.5rem}.error{background:#fdecea;border:1px solid #f1a39c;padding:.5rem}
.secret{font-family:monospace;background:#fff7d6;border:1px solid #e6c200;padding:.5rem;word-break:break-all}
.warn{color:#8a5a00;font-weight:600}pre{background:#fff;border:1px solid #e3e6ea;padding:.6rem;overflow:auto;white-space:pre-wrap}
.empty{color:#667;font-style:italic}svg text{font-size:10px;fill:#445}.allowed{fill:#2e7d32}.denied{fill:#c62828}.eng-fetch{fill:#1565c0;color:#1565c0}.eng-browser{fill:#ef6c00;color:#ef6c00}.eng-origin{fill:#6a1b9a;color:#6a1b9a}
img.shot{max-width:100%;border:1px solid #ccd}
`;

/** Copies the text of the element named by data-copy into the clipboard. */
export const APP_JS = `document.addEventListener('click',function(e){var b=e.target.closest&&e.target.closest('[data-copy]');if(!b)return;var t=document.getElementById(b.getAttribute('data-copy'));if(t&&navigator.clipboard){navigator.clipboard.writeText(t.textContent.trim());b.textContent='Copied';}});`;
