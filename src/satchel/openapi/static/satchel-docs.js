/* Start Swagger UI for Satchel's /docs page.
 *
 * Kept out of the HTML so the page needs no inline script and runs under a strict
 * Content-Security-Policy. The schema URL comes from the page's data attribute.
 * validatorUrl is null so the page never calls validator.swagger.io: the docs
 * work offline.
 */
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.getAttribute("data-openapi-url"),
    domNode: root,
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    validatorUrl: null,
    displayRequestDuration: true,
    defaultModelsExpandDepth: 0
  });
})();
