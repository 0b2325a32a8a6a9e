export { createOpenAiStub, type OpenAiStub, type OpenAiStubOptions } from "./openai.stub";
