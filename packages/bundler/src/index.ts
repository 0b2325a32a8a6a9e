export { type BundleOptions, type BundleResult, bundleEntry } from "./bundle-entry";
