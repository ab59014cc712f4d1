// GOV.UK Frontend's support check, run first thing in <body> (templates/base.html), before
// the page is drawn: components style themselves for JavaScript only when the body says so,
// and initAll starts nothing without `govuk-frontend-supported`. Kept out of the page so the
// Content-Security-Policy allows no inline script.
document.body.className +=
  " js-enabled" + ("noModule" in HTMLScriptElement.prototype ? " govuk-frontend-supported" : "");
