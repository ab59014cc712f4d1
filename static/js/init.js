// Starts GOV.UK Frontend's and MoJ Frontend's components on every page (templates/base.html,
// <script type="module">). The imports are relative to this file, so they resolve under
// STATIC_URL, hashed file names (collectstatic) or not.
import { initAll as initGovuk } from "../govuk/govuk-frontend.min.js";
import { initAll as initMoj } from "../moj/moj-frontend.min.js";

initGovuk();
initMoj();
