// Starts Swagger UI on the docs pages (app/docs.py). A file of its own, not an inline script, so the
// pages' Content-Security-Policy can forbid inline scripts. No validator badge: it would call another origin.
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.getAttribute("data-openapi-url"),
    dom_id: "#swagger-ui",
    deepLinking: true,
    showExtensions: true,
    showCommonExtensions: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout"
  });
})();
