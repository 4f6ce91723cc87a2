// Chinese for form-js's own words. form-js (1.x) has no translation hook: its words are written
// into the DOM, so a watcher replaces them there (text, placeholders, titles and aria labels),
// and its date picker, flatpickr, takes flatpickr's own zh locale. Used only on zh pages.
import flatpickr from "flatpickr";
import { Mandarin } from "flatpickr/dist/l10n/zh";

export const FORM_ZH = {
  Select: "请选择",
  Search: "搜索",
  "No results": "没有匹配项",
  "All values selected": "已全部选择",
  "Remove tag": "移除",
  "Skip to search": "跳到搜索",
  "Add new": "添加一项",
  Collapse: "收起",
  Delete: "删除",
  Date: "日期",
  Time: "时间",
  Browse: "选择文件",
  "No files selected": "未选择文件",
  "Nothing to show.": "没有可显示的内容。",
  "No content to show.": "没有可显示的内容。",
  "Previous page": "上一页",
  "Next page": "下一页",
  Increment: "加一",
  Decrement: "减一",
  "Click to remove sorting": "点击取消排序",
  "Unable to download document": "无法下载文件",
  "Field is required.": "必填。",
  "Field must be a valid email.": "请填写有效的电子邮箱。",
  "Value is not a number.": "请填写数字。",
  "Date and time must both be entered.": "日期和时间都要填写。",
  "This is an image placeholder": "图片占位",
  "Document preview": "文件预览",
};

const PATTERNS = [
  [/^Expand all \((\d+)\)$/, (n) => `全部展开（${n}）`],
  [/^(\d+) files? selected$/, (n) => `已选择 ${n} 个文件`],
  // The date field's format hint (the browser's locale): mm/dd/yyyy -> 月/日/年.
  [
    /^(mm|dd|yyyy)([./-])(mm|dd|yyyy)\2(mm|dd|yyyy)$/,
    (...parts) => parts.map((p) => ({ mm: "月", dd: "日", yyyy: "年" })[p] || p).join(""),
  ],
];

const ATTRIBUTES = ["placeholder", "title", "aria-label", "alt"];

function zh(text, words, patterns) {
  const key = text.trim();
  if (!key) return null;
  if (Object.hasOwn(words, key)) return text.replace(key, words[key]);
  for (const [pattern, make] of patterns) {
    const match = pattern.exec(key);
    if (match) return text.replace(key, make(...match.slice(1)));
  }
  return null;
}

function translateNode(node, words, patterns) {
  if (node.nodeType === Node.TEXT_NODE) {
    const text = zh(node.nodeValue, words, patterns);
    if (text !== null && text !== node.nodeValue) node.nodeValue = text;
    return;
  }
  if (node.nodeType !== Node.ELEMENT_NODE) return;
  // The bpmn.io watermark stays as it is (its licence).
  if (node.closest(".fjs-powered-by, .bjs-powered-by")) return;
  for (const name of ATTRIBUTES) {
    const value = node.getAttribute(name);
    if (value === null) continue;
    const text = zh(value, words, patterns);
    if (text !== null && text !== value) node.setAttribute(name, text);
  }
  for (const child of node.childNodes) translateNode(child, words, patterns);
}

// Replaces the words (exact texts, and patterns) in what is rendered into root, now and from
// now on: for libraries, or parts of them, that write English without a translation hook.
export function translateDom(root, words, patterns = []) {
  translateNode(root, words, patterns);
  const observer = new MutationObserver((records) => {
    for (const record of records) {
      if (record.type === "attributes" || record.type === "characterData") {
        translateNode(record.target, words, patterns);
      } else {
        for (const node of record.addedNodes) translateNode(node, words, patterns);
      }
    }
  });
  observer.observe(root, {
    subtree: true,
    childList: true,
    characterData: true,
    attributes: true,
    attributeFilter: ATTRIBUTES,
  });
  return observer;
}

let localized = false;

// Translates what form-js has rendered into root, and what it renders there from now on.
export function translateForm(root) {
  if (!localized) {
    flatpickr.localize(Mandarin); // every date picker made from now on
    localized = true;
  }
  return translateDom(root, FORM_ZH, PATTERNS);
}
