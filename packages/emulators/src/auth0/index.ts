export {
  type Auth0Emulator,
  type Auth0EmulatorOptions,
  createAuth0Emulator,
  type SignTokenOptions,
} from "./auth0.emulator";
